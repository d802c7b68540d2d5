"""Find a number in dictated text, where it is often spoken rather than written: transcribed visits say "one twenty
eight over seventy two" for a blood pressure of 128/72 and "ninety eight point seven" (or "ninety eight . seven")
for 98.7. Without this, the windows that state a vital sign cannot be found and the adapter never learns to fill
vitals from a dialogue (see verticals/clinical/windows.py).

Spoken forms come from num2words (English), plus the forms clinicians say: a three-digit value as its hundreds digit
followed by the rest ("one twenty eight", "one oh five"), "a hundred" for one hundred, "and" optional, hyphens or
spaces between words, decimals digit by digit after "point" or ".". A match must not sit inside a longer number:
"twenty" is not found in "twenty eight", nor "twenty eight" in "one twenty eight"."""

from __future__ import annotations

import re
from functools import lru_cache

from num2words import num2words

_NUMBER_WORDS = frozenset(
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand point".split()
)
_WORD = re.compile(r"[a-z]+")
_GAP = r"(?:\s+|\s*-\s*)"


def _words(number: int) -> list[str]:
    return _WORD.findall(num2words(number, lang="en").lower())


def _integer_forms(number: int) -> list[list[str]]:
    """Every spoken form of a whole number as a list of words ('and' left out; it is matched as optional)."""
    plain = [w for w in _words(number) if w != "and"]
    forms = [plain]
    if 100 <= number < 1000:
        hundreds, rest = divmod(number, 100)
        if rest == 0 and hundreds == 1:
            forms.append(["a", "hundred"])
        elif rest:
            tail = _words(rest) if rest >= 10 else ["oh", *_words(rest)]
            forms.append([*_words(hundreds), *tail])
            if hundreds == 1:
                forms.append(["a", *plain[1:]])
    return forms


@lru_cache(maxsize=4096)
def _pattern(text: str) -> re.Pattern[str] | None:
    match = re.fullmatch(r"(\d+)(?:\.(\d+))?", text)
    if not match or len(match.group(1)) > 4:
        return None
    whole, decimals = int(match.group(1)), (match.group(2) or "").rstrip("0")
    alternatives = []
    for words in _integer_forms(whole):
        spoken = _GAP.join(rf"(?:and{_GAP})?{re.escape(w)}" if w != words[0] else re.escape(w) for w in words)
        if decimals:
            spoken += r"\s*(?:point|\.)\s*" + r"\s+".join(_words(int(d))[0] for d in decimals)
        alternatives.append(spoken)
    return re.compile(r"\b(?:" + "|".join(sorted(set(alternatives), key=len, reverse=True)) + r")\b", re.I)


_TOKEN = re.compile(r"[a-z]+|[.,;:!?]")


def _stands_alone(text: str, start: int, end: int) -> bool:
    """The match is a whole number: no number word right before or after it, nor a spoken decimal point ('.' between
    number words) joining it to one."""
    before = _TOKEN.findall(text[max(0, start - 30) : start].lower())[-2:]
    after = _TOKEN.findall(text[end : end + 30].lower())[:2]
    if before and before[-1] in _NUMBER_WORDS - {"point"}:
        return False
    if len(before) == 2 and before[-1] == "." and before[0] in _NUMBER_WORDS:
        return False
    if after and after[0] in _NUMBER_WORDS - {"hundred", "thousand", "point"}:
        return False
    return not (len(after) == 2 and after[0] in (".", "point") and after[1] in _NUMBER_WORDS)


def states_number(text: str, number: str) -> bool:
    """True when the text states the number, written in digits or spoken in English words."""
    number = number.strip().removesuffix(".0")
    if re.search(rf"(?<![\d.]){re.escape(number)}(?:\.0+)?(?!\d|\.\d)", text):
        return True
    pattern = _pattern(number)
    return pattern is not None and any(_stands_alone(text, m.start(), m.end()) for m in pattern.finditer(text))
