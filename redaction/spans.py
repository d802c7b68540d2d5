"""A detected stretch of text and the one rule for overlaps: for privacy the union of overlapping spans goes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    score: float = 1.0


def touching(tokens: Sequence[tuple[int, int, str]], start: int, end: int) -> list[int]:
    """Indices of the tokens that overlap text[start:end]."""
    return [k for k, t in enumerate(tokens) if t[0] < end and t[1] > start]


def union_overlaps(spans: Iterable[Span], label_of: Callable[[Span, Span], str]) -> list[Span]:
    """Overlapping spans merged into their union; label_of(kept, incoming) names the merged span."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -(s.end - s.start))):
        if out and s.start < out[-1].end:
            prev = out[-1]
            out[-1] = Span(prev.start, max(prev.end, s.end), label_of(prev, s), max(prev.score, s.score))
            continue
        out.append(s)
    return out


def stronger_label(prev: Span, s: Span) -> str:
    """Of two overlapping spans, the label of the higher score, then of the longer span."""
    return s.label if (s.score, s.end - s.start) > (prev.score, prev.end - prev.start) else prev.label
