"""Finding the answer in what a model wrote: models wrap JSON in prose or code fences, so parsers look for the
first complete JSON object (nested objects included) rather than demanding the whole output be JSON."""

from __future__ import annotations

import json
import re
from typing import Any

from core.errors import ParseError


def first_json_object(text: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text[start:])
            if isinstance(obj, dict):
                return obj
        except json.JSONDecodeError:
            pass
        start = text.find("{", start + 1)
    raise ParseError("no JSON object in the output")


JSON_START_WITHIN = 240  # characters: a preamble longer than this ("Here is the form: ...") is not an answer


LOOP_MIN_CHARS = 60  # a tail this long (or more) that repeats one unit ...
LOOP_MIN_REPEATS = 3  # ... at least this many times is a greedy decoding loop
LOOP_MAX_UNIT = 200  # characters: the longest repeated unit looked for (a sentence said again and again)
_NUMBER = re.compile(r"\d+")


def _periodic_tail(text: str, *, unit_has_letter: bool) -> bool:
    for unit in range(1, LOOP_MAX_UNIT + 1):
        span = max(LOOP_MIN_CHARS, LOOP_MIN_REPEATS * unit)
        if span > len(text):
            return False
        tail = text[-span:]
        if tail[unit:] == tail[:-unit] and (not unit_has_letter or any(ch.isalpha() for ch in tail[-unit:])):
            return True
    return False


def caught_in_loop(text: str) -> bool:
    """True when `text` ends in a verbatim loop: one unit of up to LOOP_MAX_UNIT characters written
    LOOP_MIN_REPEATS times or more over LOOP_MIN_CHARS characters or more ("john-john-john-...", the same JSON line or
    sentence again and again), or a counting loop ('"item_7": true, "item_8": true, ...', numbers aside; its unit must
    hold a letter, so a long list of numbers is not one). A greedy decoder in such a loop almost never leaves it
    before its token budget runs out."""
    return _periodic_tail(text, unit_has_letter=False) or _periodic_tail(_NUMBER.sub("0", text), unit_has_letter=True)


def json_answer_end(text: str, *, end_loops: bool = True) -> int | None:
    """Where an answer that should be one JSON object ends: just after its first object closes, or at
    JSON_START_WITHIN characters when none has started by then; None while it may still become one.
    With end_loops, also at the end of an unfinished answer that is caught in a verbatim loop (`caught_in_loop`).

    Cutting there never changes what `first_json_object` finds when the object from the first "{" is complete (it
    is the one found); only an answer whose object would start after a long preamble loses it, or one whose loop
    would have ended and closed its object before the token budget."""
    start = text.find("{", 0, JSON_START_WITHIN)
    if start == -1:
        return JSON_START_WITHIN if len(text) >= JSON_START_WITHIN else None
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return len(text) if end_loops and caught_in_loop(text) else None
    return end


def has_json_object(text: str) -> bool:
    """True when the answer's outermost object (from the first "{") is complete JSON. A truncated answer is not
    valid even if one of its nested objects (a medication, say) happens to be complete."""
    start = text.find("{")
    if start == -1:
        return False
    try:
        obj, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError:
        return False
    return isinstance(obj, dict)
