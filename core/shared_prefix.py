"""One copy of the prompt prefix per packed row instead of one per document.

Why: every training example of a pack starts with the same tokens (system prompt, label list, schema, style guide):
80 of the legal sample's 147 tokens per clause, 231 of the clinical pack's 495. trl packs whole examples into rows,
so a 512-token row spends half its forward and backward passes on copies of one prefix. Here trl's packed rows are
kept exactly as trl built them (same documents, same order, same optimizer steps), but each row holds the prefix
once, followed by every document without it; the documents attend to that one prefix and then causally to
themselves (`core/packed_attention.py`), at the positions they had before. Logits, loss and gradients are those
of the unshared row, up to floating-point summation order.

Only used with the packed SDPA attention of `core/packed_attention.py`, which reads the layout; FlashAttention and
eager attention would not, so they train on unshared rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

IGNORE = -100
MIN_PREFIX_TOKENS = 8  # below this the copies cost less than the extra attention calls


@dataclass
class SharingStats:
    """What sharing changed, for the training summary."""

    prefix_tokens: int = 0
    rows_shared: int = 0
    rows_unshared: int = 0
    tokens_before: int = 0
    tokens_after: int = 0

    def to_json(self) -> dict[str, int | float]:
        saved = 1 - self.tokens_after / self.tokens_before if self.tokens_before else 0.0
        return {
            "prefix_tokens": self.prefix_tokens,
            "rows_shared": self.rows_shared,
            "rows_unshared": self.rows_unshared,
            "tokens_before": self.tokens_before,
            "tokens_after": self.tokens_after,
            "share_of_tokens_saved": round(saved, 4),
        }


def documents(row: dict[str, Any]) -> list[tuple[list[int], list[int]]]:
    """(input_ids, labels) of every document of one packed row."""
    out, start = [], 0
    for length in row["seq_lengths"]:
        out.append((row["input_ids"][start : start + length], row["labels"][start : start + length]))
        start += length
    return out


def common_prefix(rows: Sequence[dict[str, Any]]) -> list[int]:
    """The longest token prefix every document shares, ending at least one token before the first labelled
    position of every document (a document keeps one unlabelled token of its own: trl masks the first token of
    every segment). Empty when shorter than MIN_PREFIX_TOKENS or when any row is not a packed row."""
    docs = [doc for row in rows if "seq_lengths" in row for doc in documents(row)]
    if not docs or len(docs) != sum(len(r.get("seq_lengths") or []) for r in rows):
        return []
    limit = min(_first_label(labels) for _, labels in docs) - 1
    first = docs[0][0]
    length = 0
    while length < limit and all(ids[length] == first[length] for ids, _ in docs):
        length += 1
    return list(first[:length]) if length >= MIN_PREFIX_TOKENS else []


def _first_label(labels: Sequence[int]) -> int:
    return next((i for i, label in enumerate(labels) if label != IGNORE), len(labels))


def share_row(row: dict[str, Any], prefix: Sequence[int]) -> dict[str, Any] | None:
    """The row with one copy of `prefix` in front of its documents (each without it), or None when a document does
    not start with the prefix or keeps no token of its own."""
    p = len(prefix)
    docs = documents(row)
    if any(list(ids[:p]) != list(prefix) or len(ids) <= p or _first_label(labels) <= p for ids, labels in docs):
        return None
    input_ids, labels = list(prefix), [IGNORE] * p
    for ids, labs in docs:
        input_ids.extend(ids[p:])
        labels.extend(labs[p:])
    return {**row, "input_ids": input_ids, "labels": labels, "seq_lengths": [p] + [len(ids) - p for ids, _ in docs]}


def share_dataset(dataset: Any, prefix: Sequence[int], stats: SharingStats, rows: list[dict] | None = None) -> Any:
    """A datasets.Dataset of trl-packed rows -> the same rows with the prefix shared where every document has it.
    `rows`: the dataset's rows when the caller has already read them."""
    from datasets import Dataset

    rows = dataset.to_list() if rows is None else rows
    out = []
    for row in rows:
        shared = share_row(row, prefix)
        stats.tokens_before += len(row["input_ids"])
        if shared is None:
            stats.rows_unshared += 1
            out.append(row)
        else:
            stats.rows_shared += 1
            out.append(shared)
        stats.tokens_after += len(out[-1]["input_ids"])
    return Dataset.from_list(out, features=dataset.features) if out else dataset


class SharedPrefixCollator:
    """trl's padding-free collator, then the shared layout: documents after a row's prefix take their positions
    after it (RoPE sees what it saw in the unshared row), and `segment_prefix` tells the attention which segment
    each document reads first."""

    def __init__(self, inner: Callable[[list[dict[str, Any]]], dict[str, Any]], prefix: Sequence[int]):
        self.inner, self.prefix = inner, list(prefix)

    def is_shared(self, row: dict[str, Any]) -> bool:
        lengths, p = row.get("seq_lengths") or [], len(self.prefix)
        return len(lengths) > 1 and lengths[0] == p and list(row["input_ids"][:p]) == self.prefix

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        batch = self.inner(rows)
        shared_rows = [self.is_shared(r) for r in rows]
        if not any(shared_rows):
            return batch
        if "cu_seq_lens_q" not in batch or batch["position_ids"].shape[0] != 1:
            raise ValueError("shared prompt prefixes need trl's padding-free batches (one flattened row)")
        segment_prefix: list[int] = []
        positions = batch["position_ids"][0]
        cursor = 0
        for row, shared in zip(rows, shared_rows, strict=True):
            first = len(segment_prefix)
            for k, length in enumerate(row["seq_lengths"]):
                segment_prefix.append(first if shared and k > 0 else -1)
                if shared and k > 0:
                    positions[cursor : cursor + length] += len(self.prefix)
                cursor += length
        segments = batch["cu_seq_lens_q"].numel() - 1
        segment_prefix.extend([-1] * (segments - len(segment_prefix)))  # trailing padding, if any
        if len(segment_prefix) != segments:
            raise ValueError(f"packed rows name {len(segment_prefix)} documents, the batch has {segments}")
        batch["segment_prefix"] = segment_prefix
        return batch


def share_prompt_prefix(trainer: Any) -> SharingStats | None:
    """Rewrite the trainer's packed datasets and wrap its collator (before training starts). Returns what changed,
    or None when the documents share no prefix worth sharing."""
    train = trainer.train_dataset
    if train is None or "seq_lengths" not in train.column_names:
        return None
    rows = train.to_list()
    prefix = common_prefix(rows)
    if not prefix:
        return None
    stats = SharingStats(prefix_tokens=len(prefix))
    trainer.train_dataset = share_dataset(train, prefix, stats, rows)
    if trainer.eval_dataset is not None and "seq_lengths" in trainer.eval_dataset.column_names:
        trainer.eval_dataset = share_dataset(trainer.eval_dataset, prefix, SharingStats())
    trainer.data_collator = SharedPrefixCollator(trainer.data_collator, prefix)
    return stats
