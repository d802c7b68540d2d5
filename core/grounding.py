"""Grounded decoding for free text: per prompt, a set of words the answer may not contain (e.g. colours and
materials the product does not have) and, optionally, the only numbers it may state. Tokenizer-aware: a token is
refused when it would *complete* a refused word or number, or leave the answer ending in one (a refused word as
written so far, or digits no allowed number starts with), so the word is stopped where it starts rather than once
nothing else can follow it; a word spread over several tokens is caught at the token that spells it out. Checked
among the likeliest next tokens at every step. The price: a longer word that begins with a refused one ("redwood"
after a lone "red" token) must be written with another tokenization.

Packs provide a Grounding per example (Pack.grounding); evaluation scores `+grounded` twins of the free-text
systems, so the effect of grounding on every metric is measured, not assumed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

TOP_K = 40  # candidates checked per step: the rest are too unlikely to be chosen by greedy decoding anyway
_UNIT = re.compile(r"[^\W\d_]+|\d+(?:\.\d+)?", re.UNICODE)
_TAIL = re.compile(r"(?:[^\W\d_]+|\d+(?:\.\d*)?)$", re.UNICODE)


@dataclass(frozen=True)
class Grounding:
    refused_words: frozenset[str] = field(default_factory=frozenset)  # lower case
    allowed_numbers: frozenset[str] | None = None  # None = numbers unchecked

    def refuses(self, unit: str) -> bool:
        if unit[0].isdigit():
            return self.allowed_numbers is not None and _number(unit) not in self.allowed_numbers
        return unit.lower() in self.refused_words

    def refuses_open(self, unit: str) -> bool:
        """A trailing unit that more tokens may still extend: a refused word as it stands, or digits that no
        allowed number starts with."""
        if unit[0].isdigit():
            digits = unit.rstrip(".")
            return self.allowed_numbers is not None and not any(n.startswith(digits) for n in self.allowed_numbers)
        return unit.lower() in self.refused_words


def _number(text: str) -> str:
    value = float(text)
    return str(int(value)) if value.is_integer() else str(value)


def numbers_in(text: str) -> frozenset[str]:
    return frozenset(_number(n) for n in re.findall(r"\d+(?:\.\d+)?", text.replace(",", "")))


def completed_units(text: str, finished: bool) -> list[str]:
    """Words and numbers of `text` that nothing can extend any more: every one but a trailing unit, unless the
    answer is finished."""
    units = list(_UNIT.finditer(text))
    if not finished and units:
        last = units[-1]
        open_decimal = text[last.end() :] == "." and last.group(0)[0].isdigit()  # "3." may become 3.5
        if last.end() == len(text) or open_decimal:
            units = units[:-1]
    return [m.group(0) for m in units]


def _would_state_refused(ground: Grounding, text: str, finished: bool) -> bool:
    if any(ground.refuses(u) for u in completed_units(text, finished=finished)):
        return True
    open_unit = None if finished else _TAIL.search(text)
    return bool(open_unit) and ground.refuses_open(open_unit.group(0))


def grounding_processor(
    tokenizer: Any, rows: Sequence[Grounding | None], prompt_width: int, stop_ids: Sequence[int]
) -> Any:
    import torch
    from transformers import LogitsProcessor

    pieces: dict[int, str] = {}
    stops = set(stop_ids)

    def piece(token: int) -> str:
        if token not in pieces:
            pieces[token] = "" if token in stops else tokenizer.decode([token])
        return pieces[token]

    class _Grounded(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            for row, ground in enumerate(rows):
                if ground is None:
                    continue
                answer = tokenizer.decode(input_ids[row, prompt_width:], skip_special_tokens=True)
                tail_match = _TAIL.search(answer)
                tail = tail_match.group(0) if tail_match else ""
                candidates = torch.topk(scores[row], min(TOP_K, scores.shape[-1])).indices.tolist()
                refused = []
                for token in candidates:
                    if _would_state_refused(ground, tail + piece(token), finished=token in stops):
                        refused.append(token)
                if refused:  # the next unchecked token is at worst the 41st likeliest: never a dead end
                    scores[row, refused] = float("-inf")
            return scores

    return _Grounded()
