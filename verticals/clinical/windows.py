"""Long visits read window by window: a 10-minute dialogue is 1,500-3,000 tokens, more than a 135M model reads well
at once. The dialogue is cut at line (speaker turn) boundaries into overlapping windows; the model fills a partial
form per window and the partial forms are merged.

Merge rule (`merge_forms`): lists are the union of the windows' lists in window order (an item kept once; a drug
by its name, first mention wins); scalars and each vital sign are the first non-null value in window order; a
field is null only when every window left it null, and [] when some window said "none" and none named an item.

Training targets per window (`window_forms`), derived from the visit's whole form:
- visit-level fields (chief_complaint, secondary_complaints, age, sex) and lists the visit states as empty ([])
  go to the first window only: the opening of a visit is where they are stated, and the merge takes the first;
- with `where_stated` (the pack's `stated_values_only`, off by default): the age goes to the first window that
  states its number, in digits or words, and nowhere when none does (ACI-Bench takes ages from the note's header,
  and 28 of its 64 training visits never say the age), and a vital sign spoken in words counts as stated;
- a list item (a medication by its name, an allergy, a symptom) goes to every window that mentions it; an item the
  text paraphrases ("abdominal pain" for "my stomach hurts... the pain") goes to the one window sharing most of its
  content words (at least one; the first such window on a tie);
- a vital sign goes to every window that states its number (blood pressure: both numbers) in digits, or with
  `where_stated` spoken too ("one twenty eight over seventy two", verticals/clinical/spoken_numbers.py);
- a value no window mentions goes to none and is counted (`values_not_in_text`): the merged form cannot state
  it, and the count says how much of the reference is out of reach for window-by-window extraction."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import Any

from verticals.clinical.spoken_numbers import states_number

VISIT_LEVEL = ("chief_complaint", "secondary_complaints", "age", "sex")
LIST_FIELDS = ("medications", "allergies", "symptoms")


def split_windows(text: str, window_chars: int, overlap_chars: int) -> list[str]:
    """Overlapping windows of whole lines, each at most `window_chars` long (a longer line is cut at spaces);
    consecutive windows share at least `overlap_chars` of lines where the window size allows."""
    if window_chars <= 0 or len(text) <= window_chars:
        return [text]
    lines = [piece for line in text.splitlines() for piece in _cut(line, window_chars) if piece.strip()]
    windows: list[str] = []
    start = 0
    while start < len(lines):
        end, size = start, 0
        while end < len(lines) and (end == start or size + len(lines[end]) + 1 <= window_chars):
            size += len(lines[end]) + 1
            end += 1
        windows.append("\n".join(lines[start:end]))
        if end >= len(lines):
            break
        back, kept = end, 0
        while back - 1 > start and kept + len(lines[back - 1]) + 1 <= max(overlap_chars, 1):
            back -= 1
            kept += len(lines[back]) + 1
        start = back if back > start else end
    return windows


def _cut(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    pieces, current = [], ""
    for word in line.split(" "):
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return [*pieces, current] if current else pieces


def mentions(window: str, phrase: str) -> bool:
    """The phrase as whole words in the window, ignoring case and runs of spaces."""
    words = [re.escape(w) for w in str(phrase).lower().split()]
    return bool(words) and re.search(r"\b" + r"\s+".join(words) + r"\b", window.lower()) is not None


_STOP = frozenset("a an and at by for from in of on or the to with without left right bilateral mild".split())


def _most_words(windows: Sequence[str], phrase: str) -> list[int]:
    """The window sharing the most content words with a phrase no window states verbatim ([] when none shares one)."""
    words = [w for w in re.findall(r"[a-z]+", str(phrase).lower()) if len(w) > 2 and w not in _STOP]
    shared = [sum(mentions(window, w) for w in words) for window in windows]
    best = max(shared, default=0)
    return [shared.index(best)] if best else []


def _states_vital(window: str, key: str, value: Any, spoken: bool) -> bool:
    if key == "blood_pressure":
        numbers = str(value).split("/")
    else:
        number = re.match(r"-?\d+(?:\.\d+)?", str(value))
        numbers = [number.group(0)] if number else []
    if spoken:
        return bool(numbers) and all(states_number(window, n) for n in numbers)
    numbers = [n.removesuffix(".0") for n in numbers]
    return bool(numbers) and all(re.search(rf"(?<![\d.]){re.escape(n)}(?![\d])", window) for n in numbers)


def window_forms(
    windows: Sequence[str], form: dict[str, Any], *, where_stated: bool = False
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Each window's target form (see the module docstring) and counts of where the visit's values went.
    `where_stated`: vital signs spoken in words count as stated, and the age goes only where it is stated."""
    counts = {"values_placed": 0, "values_not_in_text": 0}
    targets: list[dict[str, Any]] = [dict.fromkeys(form) for _ in windows]
    for key in VISIT_LEVEL:
        if key in form:
            targets[0][key] = form[key]
    if where_stated and form.get("age") is not None:
        stated = [i for i, w in enumerate(windows) if states_number(w, str(form["age"]))]
        targets[0]["age"] = None
        if stated:
            targets[stated[0]]["age"] = form["age"]
        counts["values_placed" if stated else "values_not_in_text"] += 1
    for key in LIST_FIELDS:
        items = form.get(key)
        if items is None:
            continue
        if not items:
            targets[0][key] = []
        for item in items:
            name = item["name"] if isinstance(item, dict) else item
            hits = [i for i, w in enumerate(windows) if mentions(w, name)] or _most_words(windows, name)
            counts["values_placed" if hits else "values_not_in_text"] += 1
            for i in hits:
                targets[i][key] = [*(targets[i][key] or []), item]
    for sub, value in (form.get("vitals") or {}).items():
        if value is None:
            continue
        hits = [i for i, w in enumerate(windows) if _states_vital(w, sub, value, where_stated)]
        counts["values_placed" if hits else "values_not_in_text"] += 1
        for i in hits:
            targets[i]["vitals"] = {**(targets[i]["vitals"] or {}), sub: value}
    return targets, counts


def merge_forms(forms: Sequence[dict[str, Any] | None]) -> dict[str, Any]:
    """The visit's form from its windows' forms (None = a window whose answer did not parse); see the rule above."""
    present = [f for f in forms if f is not None]
    keys = list(dict.fromkeys(k for f in present for k in f))
    return {k: _merge_values([f.get(k) for f in present]) for k in keys}


def _merge_values(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    if not known:
        return None
    if all(isinstance(v, list) for v in known):
        merged: list[Any] = []
        seen: set[str] = set()
        for item in (x for v in known for x in v):
            key = str(item.get("name") if isinstance(item, dict) else item).lower()
            if key not in seen:
                seen.add(key)
                merged.append(item)
        return merged
    if all(isinstance(v, dict) for v in known):
        keys = list(dict.fromkeys(k for v in known for k in v))
        return {k: _merge_values([v.get(k) for v in known]) for k in keys}
    return known[0]


def stable_fraction(key: str) -> float:
    """A number in [0, 1) fixed by the key: the same windows are kept on every machine and every run."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16) / 16**8
