"""Free-text answers kept inside a length range in words (a style guide's 35-90 words, say), at decode time.

Two halves, both measured as `str.split()` words, the way the packs' length checks count them:
- no end before `low` words: the end-of-turn tokens are refused while the answer is shorter (`min_words_processor`);
- no run past `high` words: an answer that passes `high` is cut after its last complete sentence or line that keeps
  it inside the range (`end_within_words`, an answer-end rule like the repeated-line one). When no such sentence
  exists (one 120-word sentence) nothing is cut: a sentence cut in half is worse than a long answer, and the length
  check reports it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

_SENTENCE_END = re.compile(r"[.!?](?=\s|$)|\n")


def end_within_words(text: str, low: int, high: int) -> int | None:
    """Where to end an answer that has gone past `high` words (a character offset), or None while it has not, or
    when no sentence or line ends with between `low` and `high` words before it."""
    words = list(re.finditer(r"\S+", text))
    if len(words) <= high:
        return None
    limit = words[high - 1].end()  # the end of the last word allowed
    best = None
    for m in _SENTENCE_END.finditer(text, 0, limit + 1):
        end = m.end() if m.group() != "\n" else m.start()
        if low <= len(text[:end].split()) <= high:
            best = end
    return best


def first_end(*rules: Callable[[str], int | None] | None) -> Callable[[str], int | None] | None:
    """One answer-end rule from several: the answer ends at the earliest offset any of them gives."""
    found = [r for r in rules if r is not None]
    if not found:
        return None
    if len(found) == 1:
        return found[0]

    def _earliest(text: str) -> int | None:
        ends = [e for e in (rule(text) for rule in found) if e is not None]
        return min(ends) if ends else None

    return _earliest


def min_words_processor(
    tokenizer: Any,
    prompt_width: int | Sequence[int],
    stop_ids: Sequence[int],
    low: int,
    prompt_of_row: Sequence[int] | None = None,
) -> Any:
    """A logits processor that refuses the end-of-turn tokens while a row's answer has fewer than `low` words.
    A row's answer is decoded only until it reaches `low` words (then it is left alone). `prompt_of_row[r]`: which
    prompt row r holds now (a rolling batch reuses rows); default: row r holds prompt r."""
    import torch
    from transformers import LogitsProcessor

    from core.constrained import answer_start

    stops = torch.tensor(sorted(set(stop_ids)), dtype=torch.long)

    class _MinWords(LogitsProcessor):
        def __init__(self) -> None:
            self.long_enough: set[int] = set()  # prompts whose answer has reached `low` words

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            for row in range(input_ids.shape[0]):
                prompt = prompt_of_row[row] if prompt_of_row is not None else row
                if prompt in self.long_enough:
                    continue
                answer = tokenizer.decode(input_ids[row, answer_start(prompt_width, row) :], skip_special_tokens=True)
                if len(answer.split()) >= low:
                    self.long_enough.add(prompt)
                    continue
                scores[row, stops.to(scores.device)] = float("-inf")
            return scores

    return _MinWords()
