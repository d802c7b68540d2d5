"""Training copy without what the publishable check rejects: a sentence that names a colour, material or number
the product's attributes lack, or a line that repeats an earlier one.

A shop's own copy often states facts its attribute table does not hold (93% of the Luma products); a model trained
on it learns to invent them. With `-O training_copy=supported` the adapter is trained on the cleaned copy; the
saved splits, the baselines and the scoring keep the copy as written.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.pack import Example
from verticals.ecommerce.copy_metrics import copy_lines, same_line, unsupported_claims

_BULLET = re.compile(r"^(\s*(?:[-•*]|\d+[.)])\s*)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class CleanedCopy:
    copy: str
    sentences_with_unsupported_claims: int = 0
    repeated_sentences: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.sentences_with_unsupported_claims or self.repeated_sentences)


def clean_copy(copy: str, attributes: dict[str, Any], lexicon: dict[str, set[str]]) -> CleanedCopy:
    """The copy with those sentences removed; line breaks, bullets and the order of what stays are kept."""
    out = CleanedCopy(copy="")
    kept_words: list[set[str]] = []
    lines: list[str] = []
    for line in copy.splitlines():
        if not line.strip():
            lines.append("")
            continue
        bullet = _BULLET.match(line)
        prefix = bullet.group(1) if bullet else ""
        kept = []
        for sentence in _SENTENCE_END.split(line[len(prefix) :]):
            if not sentence.strip():
                continue
            if unsupported_claims(sentence, attributes, lexicon):
                out.sentences_with_unsupported_claims += 1
                continue
            words = {w for part in copy_lines(sentence) for w in part}
            if words and any(same_line(words, earlier) for earlier in kept_words):
                out.repeated_sentences += 1
                continue
            kept_words.append(words)
            kept.append(sentence.strip())
        if kept:
            lines.append(prefix + " ".join(kept))
    out.copy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return out


@dataclass
class CleaningCounts:
    """What cleaning did to a split, for the data report: nothing is changed or dropped uncounted."""

    examples: int = 0
    changed: int = 0
    sentences_with_unsupported_claims: int = 0
    repeated_sentences: int = 0
    left_out_no_copy_left: list[str] = field(default_factory=list)

    def add(self, example_id: str, cleaned: CleanedCopy) -> None:
        self.examples += 1
        self.changed += int(cleaned.changed)
        self.sentences_with_unsupported_claims += cleaned.sentences_with_unsupported_claims
        self.repeated_sentences += cleaned.repeated_sentences
        if not cleaned.copy:
            self.left_out_no_copy_left.append(example_id)

    def summary(self) -> dict[str, Any]:
        return {
            "examples": self.examples,
            "examples_changed": self.changed,
            "sentences_removed_unsupported_claim": self.sentences_with_unsupported_claims,
            "sentences_removed_repeated": self.repeated_sentences,
            "examples_left_out_no_copy_left": len(self.left_out_no_copy_left),
            "left_out_ids": self.left_out_no_copy_left[:50],
        }


def cleaned_examples(examples: Sequence[Example], lexicon: dict[str, set[str]]) -> tuple[list[Example], CleaningCounts]:
    """Examples whose target is the cleaned copy (those with no copy left are left out and counted)."""
    counts = CleaningCounts()
    out = []
    for ex in examples:
        attributes = ex.reference.get("attributes", {}) if isinstance(ex.reference, dict) else {}
        cleaned = clean_copy(ex.target, attributes, lexicon)
        counts.add(ex.id, cleaned)
        if cleaned.copy:
            out.append(dataclasses.replace(ex, target=cleaned.copy))
    return out, counts
