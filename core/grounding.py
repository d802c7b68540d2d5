"""Grounded decoding for free text: per prompt, a set of words the answer may not contain (e.g. colours and
materials the product does not have) and, optionally, the only numbers it may state. Tokenizer-aware: a token is
refused when it would *complete* a refused word or number, or leave the answer ending in one (a refused word as
written so far, or digits no allowed number starts with), so the word is stopped where it starts rather than once
nothing else can follow it; a word spread over several tokens is caught at the token that spells it out. Checked
among the likeliest next tokens at every step, widening the search when all of them are refused. The price: a
longer word that begins with a refused one ("redwood" after a lone "red" token) must be written with another
tokenization. A word may also be refused only after another one (`refused_pairs`: "first" after "the"). When numbers
are checked, a comma between two digits is refused: "7,285" would state 7285 (as
`numbers_in` and the packs' claim checks read it) where a digit-by-digit check saw 7 and 285.

Optionally (`coverage_bonus` > 0) the same processor nudges the answer towards the input's own facts: every fact not
yet stated gets a logit bonus on the token that would start it, or continue it where the answer has begun one.

Packs provide a Grounding per example (Pack.grounding); evaluation scores `+grounded` twins of the free-text
systems, so the effect of grounding on every metric is measured, not assumed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import pairwise
from typing import Any

TOP_K = 40  # candidates checked first at every step; more only when all of them are refused
# a word may go on with digits ("A630", "bar1234": an identifier, no number); a number starts with a digit
_UNIT = re.compile(r"[^\W\d_][^\W_]*|\d+(?:\.\d+)?", re.UNICODE)
_TAIL = re.compile(r"(?:[^\W\d_][^\W_]*|\d+(?:\.\d*)?)$", re.UNICODE)
_OPEN_COMMA = re.compile(r"\d,$")  # "up to 7," : the next token must not join a digit to it
_LAST_WORD_AND_GAP = re.compile(r"(?<![^\W\d_])[^\W\d_][^\W_]*[^\w]+$", re.UNICODE)  # "the " of "is the fi"
_JOINED = re.compile(r"\d,\d")  # "7,285": the claim check reads one number, 7285, where decoding saw 7 and 285


@dataclass(frozen=True)
class Grounding:
    refused_words: frozenset[str] = field(default_factory=frozenset)  # lower case
    allowed_numbers: frozenset[str] | None = None  # None = numbers unchecked
    facts: tuple[str, ...] = ()  # the input's own values, which a coverage bonus nudges the answer to state
    refused_pairs: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # ("the", "first"): lower case

    def refuses(self, unit: str) -> bool:
        if unit[0].isdigit():
            return self.allowed_numbers is not None and number_key(unit) not in self.allowed_numbers
        return unit.lower() in self.refused_words

    def refuses_open(self, unit: str) -> bool:
        """A trailing unit that more tokens may still extend: a refused word as it stands, or digits that no
        allowed number starts with."""
        if unit[0].isdigit():
            return self.allowed_numbers is not None and not self.may_become_allowed(unit)
        return unit.lower() in self.refused_words

    def may_become_allowed(self, digits: str) -> bool:
        """Whether more digits can still turn an open number into an allowed one: it starts one ("3" of 37.49,
        "199." of 199.99) or already is one up to trailing zeros or a full stop ("750.0" of $750.00, "5." ending a
        sentence). "3." is refused when 3 is not allowed: only 3.x could follow, and 37.49 cannot."""
        allowed = self.allowed_numbers or frozenset()
        if any(n.startswith(digits) for n in allowed):
            return True
        return "." in digits and number_key(digits.rstrip(".")) in allowed


def number_key(text: str) -> str:
    """One spelling per value ("84.00" and "84" are the same number), for comparing numbers across texts."""
    value = float(text)
    return str(int(value)) if value.is_integer() else str(value)


def stated_numbers(text: str) -> list[str]:
    """The numbers a text states, in order, read as decoding reads them: digits that go on a word ("A630",
    "bar1234") belong to an identifier and state no number; a comma inside a number is dropped ("1,299.99")."""
    return [m.group(0) for m in _UNIT.finditer(text.replace(",", "")) if m.group(0)[0].isdigit()]


def numbers_in(text: str) -> frozenset[str]:
    """The numbers a text states, one spelling per value: what grounded decoding allows and claim checks accept."""
    return frozenset(number_key(n) for n in stated_numbers(text))


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
    if ground.allowed_numbers is not None and _JOINED.search(text):
        return True  # digits joined by a comma are refused: the same number can be written without one
    done = completed_units(text, finished=finished)
    if any(ground.refuses(u) for u in done):
        return True
    open_unit = None if finished else _TAIL.search(text)
    if ground.refused_pairs:  # "the first": a word refused only after another, stopped as soon as it is spelt
        units = [u.lower() for u in done] + ([open_unit.group(0).lower()] if open_unit else [])
        if any(pair in ground.refused_pairs for pair in pairwise(units)):
            return True
    return bool(open_unit) and ground.refuses_open(open_unit.group(0))


def _refused_until_one_is_allowed(scores: Any, is_refused: Any) -> list[int]:
    """The refused tokens among the likeliest, checked in widening rounds (40, 400, 4,000, then the whole
    vocabulary) until one is allowed, so greedy decoding never falls through to an unchecked token when every
    likely one is refused (after "199", when the product's price is $199.99, only "." or "9" may follow). If no
    token at all is allowed, nothing is refused: decoding must go on."""
    import torch

    first = torch.topk(scores, min(TOP_K, scores.shape[-1])).indices.tolist()
    refused = [t for t in first if is_refused(t)]
    if len(refused) < len(first):
        return refused
    checked = set(first)
    order = [t for t in torch.argsort(scores, descending=True).tolist() if t not in checked]  # ties: any order
    start, width = 0, TOP_K * 10
    while start < len(order):
        chunk = order[start : start + width]
        chunk_refused = [t for t in chunk if is_refused(t)]
        refused.extend(chunk_refused)
        if len(chunk_refused) < len(chunk):
            return refused
        start, width = start + len(chunk), width * 10
    return []


def trim_cut_answer(ground: Grounding | None, text: str) -> str:
    """An answer cut short (by the token budget or a pack's answer-end rule) may end in an unfinished number or word
    that is refused as it stands ("Nokia 26" when only 2610 is allowed): decoding allowed it because it could still
    have become an allowed one. That last unit is dropped; anything else is left as decoded (None: no grounding)."""
    if ground is None or not _would_state_refused(ground, text, finished=True):
        return text
    tail = _TAIL.search(text)
    if tail is None or _would_state_refused(ground, text[: tail.start()], finished=True):
        return text
    return text[: tail.start()].rstrip()


def _token_refused(ground: Grounding, tail: str, piece: Any, stops: set[int], token: int) -> bool:
    return _would_state_refused(ground, tail + piece(token), finished=token in stops)


def states(answer: str, fact: str) -> bool:
    """Whether the answer states a fact: its words in order, separated by anything that is not a word character, case
    ignored (the e-commerce pack's coverage metric reads mentions the same way)."""
    words = re.findall(r"\w+", fact.lower())
    return bool(words) and re.search(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", answer.lower()) is not None


@dataclass(frozen=True)
class FactTokens:
    """A fact's token ids as it would be written after a space (" Nokia 2610") and at the start of a line."""

    fact: str
    after_space: tuple[int, ...]
    line_start: tuple[int, ...]


def fact_tokens(tokenizer: Any, facts: Sequence[str]) -> list[FactTokens]:
    out = []
    for fact in facts:
        text = fact.strip()
        if text:
            spaced = tuple(tokenizer.encode(" " + text, add_special_tokens=False))
            bare = tuple(tokenizer.encode(text, add_special_tokens=False))
            out.append(FactTokens(text, spaced, bare))
    return out


def next_fact_tokens(answer: str, answer_ids: Sequence[int], facts: Sequence[FactTokens]) -> set[int]:
    """Tokens that would start an unstated fact here, or continue one the answer has begun (the longest begun part
    of either spelling decides)."""
    out: set[int] = set()
    at_word = bool(answer) and not answer[-1].isspace()
    for fact in facts:
        if states(answer, fact.fact):
            continue
        continued = False
        for ids in (fact.after_space, fact.line_start):
            for begun in range(min(len(ids) - 1, len(answer_ids)), 0, -1):
                if tuple(answer_ids[-begun:]) == ids[:begun]:
                    out.add(ids[begun])
                    continued = True
                    break
        if not continued:
            start = fact.after_space if at_word else fact.line_start
            if start:
                out.add(start[0])
    return out


def grounding_processor(
    tokenizer: Any,
    rows: Sequence[Grounding | None],
    prompt_width: int | Sequence[int],
    stop_ids: Sequence[int],
    coverage_bonus: float = 0.0,
) -> Any:
    """`rows` and `prompt_width` (one answer start for the batch, or one per row) may be live views that change
    between steps as rows leave and join a rolling batch (core.rolling_batch); each row's facts are looked up by its
    grounding, not by its position."""
    import torch
    from transformers import LogitsProcessor

    from core.constrained import answer_start

    pieces: dict[int, str] = {}
    stops = set(stop_ids)
    facts: dict[int, tuple[Grounding, list[Any]]] = {}  # id(grounding) -> (the grounding, its fact tokens)

    def facts_of(ground: Grounding) -> list[Any]:
        if coverage_bonus <= 0:
            return []
        hit = facts.get(id(ground))
        if hit is None or hit[0] is not ground:
            hit = facts[id(ground)] = (ground, fact_tokens(tokenizer, ground.facts))
        return hit[1]

    def piece(token: int) -> str:
        if token not in pieces:
            pieces[token] = "" if token in stops else tokenizer.decode([token])
        return pieces[token]

    class _Grounded(LogitsProcessor):
        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            for row in range(input_ids.shape[0]):
                ground = rows[row]
                if ground is None:
                    continue
                answer_ids = input_ids[row, answer_start(prompt_width, row) :].tolist()
                answer = tokenizer.decode(answer_ids, skip_special_tokens=True)
                wanted = facts_of(ground)
                if wanted:
                    nudged = sorted(next_fact_tokens(answer, answer_ids, wanted))
                    if nudged:
                        scores[row, nudged] += coverage_bonus
                tail_match = _TAIL.search(answer) or _OPEN_COMMA.search(answer)
                tail = tail_match.group(0) if tail_match else ""
                if ground.refused_pairs:  # the word before the tail too, whole, so a refused pair can be seen
                    before = _LAST_WORD_AND_GAP.search(answer, 0, len(answer) - len(tail))
                    tail = (before.group(0) if before else "") + tail
                refused = _refused_until_one_is_allowed(
                    scores[row], partial(_token_refused, ground, tail, piece, stops)
                )
                if refused:
                    scores[row, refused] = float("-inf")
            return scores

    return _Grounded()
