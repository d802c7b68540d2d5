"""Decoding with a rolling batch. A decoding step on a CPU costs ~40 ms whatever the batch plus a little per row,
and a fixed batch runs until its longest answer ends, so rows that finished early ride along and the batch
shrinks to one long answer at the end. Here a row leaves the batch as soon as its answer ends and a waiting prompt
takes its place, so steps are spent on full batches.

Built on transformers' `generate`, run a few steps at a time: between runs the KV cache is cut to the rows still
going (and to the columns they still use) and extended with the newcomers' prompts. Rows are laid out as
[shared prefix][padding][own tokens][answer]; positions come from the attention mask, so padding changes nothing
the model sees. Processors and stopping criteria read each row's answer from its own start column (`starts`,
updated in place as rows come and go)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

SEGMENT_STEPS = 8  # decoding steps between two looks at the batch: finished rows leave, waiting prompts come in


@dataclass
class Row:
    """One prompt's place in the batch."""

    index: int  # the prompt's position in the caller's list
    ids: list[int]  # prompt tokens, then any answer tokens it resumes from
    forced: int = 0  # how many of `ids` are already answer tokens
    seconds: float = 0.0  # its share of the decoding time (each run's time split over the rows in it)
    admitted: float = field(default_factory=time.perf_counter)


@dataclass
class Finished:
    row: Row
    answer: list[int]  # every answer token, the resumed ones included, up to and including a stop token
    waited: float  # wall time from joining the batch to leaving it


@dataclass
class Hooks:
    """Per-batch decoding pieces, built on the batch's live row lists (mutated in place as rows change): the
    `starts` column of each row's answer and the `rows` themselves."""

    processors: Callable[[list[int], list[Row]], list[Any]]
    stoppers: Callable[[list[int], list[Row]], list[Any]]


class _Tracked:
    """Wraps the stopping criteria to remember, per row, the sequence width at which a criterion first ended it
    (transformers pads a row after that; the answer is what came before)."""

    def __init__(self, inner: Sequence[Any]):
        from transformers import StoppingCriteriaList

        self.inner = StoppingCriteriaList(list(inner))
        self.ended_at: list[int | None] = []

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        done = self.inner(input_ids, scores, **kwargs) if len(self.inner) else None
        if done is None:
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        for row in torch.nonzero(done).flatten().tolist():
            if self.ended_at[row] is None:
                self.ended_at[row] = int(input_ids.shape[1])
        return done


def decode_rolling(
    model: Any,
    queue: list[Row],
    *,
    batch_size: int,
    batch_tokens: int | None,
    max_new_tokens: int,
    prefix: tuple[int, Any] | None,
    pad_id: int,
    stop_ids: Sequence[int],
    hooks: Hooks,
    generate_kwargs: dict[str, Any],
    on_finished: Callable[[Finished], None],
) -> None:
    """Answer every row of `queue` (longest prompts first), at most `batch_size` rows at a time and, with
    `batch_tokens`, at most that many tokens of (width + answer budget) x rows. `prefix` is (length, KV cache) of
    the tokens every prompt starts with, computed once. Each answer goes to `on_finished` as soon as it ends."""
    import torch
    from transformers import StoppingCriteriaList

    device = next(model.parameters()).device
    stops = set(stop_ids)
    seqs = torch.zeros((0, 0), dtype=torch.long, device=device)
    mask = torch.zeros((0, 0), dtype=torch.long, device=device)
    cache: Any = None
    rows: list[Row] = []
    starts: list[int] = []
    processors = hooks.processors(starts, rows)
    tracked = _Tracked(hooks.stoppers(starts, rows))
    queue = list(queue)
    while queue or rows:
        joining = _admit(queue, rows, seqs.shape[1], batch_size, batch_tokens, max_new_tokens)
        if joining:
            seqs, mask, cache = _join(model, seqs, mask, cache, joining, prefix, pad_id, starts)
            rows.extend(joining)
            tracked.ended_at.extend([None] * len(joining))
        left = [max_new_tokens - (seqs.shape[1] - s) for s in starts]
        started = time.perf_counter()
        out = model.generate(
            input_ids=seqs,
            attention_mask=mask,
            past_key_values=cache,
            max_new_tokens=max(1, min(SEGMENT_STEPS, max(left))),
            logits_processor=processors,
            stopping_criteria=StoppingCriteriaList([tracked]),
            eos_token_id=list(stop_ids),
            pad_token_id=pad_id,
            return_dict_in_generate=True,
            **generate_kwargs,
        )
        elapsed = time.perf_counter() - started
        for row in rows:
            row.seconds += elapsed / len(rows)
        seqs, cache = out.sequences, out.past_key_values
        grown = seqs.shape[1] - mask.shape[1]
        mask = torch.cat([mask, torch.ones((mask.shape[0], grown), dtype=mask.dtype, device=device)], dim=1)
        keep: list[int] = []
        for r, row in enumerate(rows):
            answer = seqs[r, starts[r] :].tolist()
            end = next((k + 1 for k, t in enumerate(answer) if t in stops), None)
            if end is None and tracked.ended_at[r] is not None:
                end = tracked.ended_at[r] - starts[r]  # type: ignore[operator]
            if end is None and len(answer) >= max_new_tokens:
                end = max_new_tokens
            if end is None:
                keep.append(r)
            else:
                on_finished(Finished(row, answer[:end], time.perf_counter() - row.admitted))
        if len(keep) < len(rows):
            seqs, mask, cache = _keep_rows(seqs, mask, cache, keep, starts)
            rows[:] = [rows[k] for k in keep]
            tracked.ended_at[:] = [tracked.ended_at[k] for k in keep]


def _admit(
    queue: list[Row], rows: list[Row], width: int, batch_size: int, batch_tokens: int | None, max_new: int
) -> list[Row]:
    """The waiting rows that fit into the batch now (one always, when the batch is empty)."""
    joining: list[Row] = []
    while queue and len(rows) + len(joining) < batch_size:
        wide = max(width, len(queue[0].ids), *(len(r.ids) for r in joining))
        count = len(rows) + len(joining) + 1
        if batch_tokens is not None and count > 1 and count * (wide + max_new) > batch_tokens:
            break
        joining.append(queue.pop(0))
        joining[-1].admitted = time.perf_counter()
    return joining


def _join(
    model: Any,
    seqs: Any,
    mask: Any,
    cache: Any,
    joining: list[Row],
    prefix: tuple[int, Any] | None,
    pad_id: int,
    starts: list[int],
) -> tuple[Any, Any, Any]:
    """Widen the batch to the newcomers' prompts (padding on the left), run their prompts but the last token into
    a KV cache of the batch's width minus one (what `generate` expects), and stack them under the running rows."""
    import torch

    device = seqs.device
    width = max(seqs.shape[1], *(len(r.ids) for r in joining))
    grow = width - seqs.shape[1]
    if grow and seqs.shape[0]:
        seqs = torch.nn.functional.pad(seqs, (grow, 0), value=pad_id)
        mask = torch.nn.functional.pad(mask, (grow, 0), value=0)
        _pad_cache_left(cache, grow)
        starts[:] = [s + grow for s in starts]
    prefix_len = prefix[0] if prefix else 0
    new_ids = torch.full((len(joining), width), pad_id, dtype=torch.long)
    new_mask = torch.zeros((len(joining), width), dtype=torch.long)
    for r, row in enumerate(joining):
        own = row.ids[prefix_len:]
        new_ids[r, :prefix_len] = torch.tensor(row.ids[:prefix_len], dtype=torch.long)
        new_mask[r, :prefix_len] = 1
        new_ids[r, width - len(own) :] = torch.tensor(own, dtype=torch.long)
        new_mask[r, width - len(own) :] = 1
    new_ids, new_mask = new_ids.to(device), new_mask.to(device)
    if prefix is not None:
        new_cache = copy.deepcopy(prefix[1])
        new_cache.batch_repeat_interleave(len(joining))
    else:
        from transformers import DynamicCache

        new_cache = DynamicCache()
    if width - 1 > prefix_len:
        positions = (new_mask.cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            model(
                input_ids=new_ids[:, prefix_len : width - 1],
                attention_mask=new_mask[:, : width - 1],
                position_ids=positions[:, prefix_len : width - 1],
                past_key_values=new_cache,
                use_cache=True,
            )
    _roomy_cache(new_cache)
    starts.extend(width - row.forced for row in joining)
    if not seqs.shape[0]:
        return new_ids, new_mask, new_cache
    _stack_caches(cache, new_cache)
    return torch.cat([seqs, new_ids]), torch.cat([mask, new_mask]), cache


def _layers(cache: Any) -> list[Any]:
    return list(cache.layers)


def _roomy_cache(cache: Any) -> Any:
    """The cache with every layer made roomy (_roomy_layer_class): a decoding step writes its token into spare room
    instead of copying the whole cache into a new tensor, which cost ~17% of a step at 16 rows x ~900 tokens."""
    roomy = _roomy_layer_class()
    for i, layer in enumerate(cache.layers):
        if not isinstance(layer, roomy):
            fresh = roomy()
            if layer.is_initialized:
                fresh.lazy_initialization(layer.keys, layer.values)
                fresh.keys, fresh.values = layer.keys, layer.values
            cache.layers[i] = fresh
    return cache


_ROOMY: list[Any] = []


def _roomy_layer_class() -> Any:
    """A transformers DynamicLayer whose keys and values live in buffers with spare columns (views of them are what
    attention reads), grown by SPARE columns at a time. Built on first use so that importing this module stays light."""
    if _ROOMY:
        return _ROOMY[0]
    from transformers.cache_utils import DynamicLayer

    class RoomyLayer(DynamicLayer):
        spare = 64

        def __init__(self) -> None:
            self._buffers: dict[str, Any] = {}
            self._lengths: dict[str, int] = {}
            super().__init__()

        def _get(self, name: str) -> Any:
            buffer = self._buffers.get(name)
            return None if buffer is None else buffer[:, :, : self._lengths[name]]

        def _set(self, name: str, value: Any) -> None:
            """Keys and values are set one after the other (each with its own length until both are set)."""
            if value is None or value.dim() != 4:
                self._buffers.pop(name, None)
                return
            b, h, t, d = value.shape
            buffer = value.new_empty((b, h, t + self.spare, d))
            buffer[:, :, :t] = value
            self._buffers[name], self._lengths[name] = buffer, t

        @property
        def length(self) -> int:
            return self._lengths.get("keys", 0)

        keys = property(lambda self: self._get("keys"), lambda self, v: self._set("keys", v))  # type: ignore[assignment]
        values = property(lambda self: self._get("values"), lambda self, v: self._set("values", v))  # type: ignore[assignment]

        def lazy_initialization(self, key_states: Any, value_states: Any) -> None:
            self.dtype, self.device = key_states.dtype, key_states.device
            self.is_initialized = True

        def update(self, key_states: Any, value_states: Any, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            if "keys" not in self._buffers:
                self.keys, self.values = key_states, value_states
                return self.keys, self.values
            n, start = key_states.shape[-2], self.length
            for name, new in (("keys", key_states), ("values", value_states)):
                buffer = self._buffers[name]
                if start + n > buffer.shape[2]:
                    grown = buffer.new_empty((*buffer.shape[:2], start + n + self.spare, buffer.shape[3]))
                    grown[:, :, :start] = buffer[:, :, :start]
                    self._buffers[name] = buffer = grown
                buffer[:, :, start : start + n] = new
                self._lengths[name] = start + n
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.length if self._buffers else 0

    _ROOMY.append(RoomyLayer)
    return RoomyLayer


def _pad_cache_left(cache: Any, n: int) -> None:
    import torch

    for layer in _layers(cache):
        layer.keys = torch.nn.functional.pad(layer.keys, (0, 0, n, 0))
        layer.values = torch.nn.functional.pad(layer.values, (0, 0, n, 0))


def _stack_caches(cache: Any, more: Any) -> None:
    import torch

    for layer, extra in zip(_layers(cache), _layers(more), strict=True):
        layer.keys = torch.cat([layer.keys, extra.keys])
        layer.values = torch.cat([layer.values, extra.values])


MIN_COLUMNS_TO_DROP = 16  # compacting the cache copies it whole; below this many free columns it is not worth it


def _keep_rows(seqs: Any, mask: Any, cache: Any, keep: list[int], starts: list[int]) -> tuple[Any, Any, Any]:
    """The batch cut to the rows in `keep`, and to the columns one of them still attends to: a long prompt that
    left leaves padding in the other rows, which every later step would read."""
    import torch

    starts[:] = [starts[k] for k in keep]
    if not keep:
        return seqs[:0], mask[:0], None
    index = torch.tensor(keep, device=seqs.device)
    seqs, mask = seqs[index], mask[index]
    cache.batch_select_indices(index)
    used = mask.any(dim=0)
    used[-1] = True  # the latest token (not yet in the cache)
    if int((~used).sum()) >= MIN_COLUMNS_TO_DROP:
        columns = torch.nonzero(used).flatten()
        before = torch.cumsum(used.long(), 0) - used.long()  # used columns left of each column
        starts[:] = [int(before[s]) for s in starts]
        seqs, mask = seqs[:, columns], mask[:, columns]
        cached = columns[:-1]
        for layer in _layers(cache):
            layer.keys, layer.values = layer.keys[:, :, cached], layer.values[:, :, cached]
    return seqs, mask, cache
