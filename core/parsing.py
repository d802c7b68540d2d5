"""Finding the answer in what a model wrote: models wrap JSON in prose or code fences, so parsers look for the
first complete JSON object (nested objects included) rather than demanding the whole output be JSON."""

from __future__ import annotations

import json
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


def json_answer_end(text: str) -> int | None:
    """Where an answer that should be one JSON object ends: just after its first object closes, or at
    JSON_START_WITHIN characters when none has started by then; None while it may still become one.

    Cutting there never changes what `first_json_object` finds when the object from the first "{" is complete (it
    is the one found); only an answer whose object would start after a long preamble loses it."""
    start = text.find("{", 0, JSON_START_WITHIN)
    if start == -1:
        return JSON_START_WITHIN if len(text) >= JSON_START_WITHIN else None
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except json.JSONDecodeError:
        return None
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
