"""Attention for padding-free packed training rows: causal SDPA per packed document, not one masked attention over
the whole row.

Why: trl packs several examples into one row and passes their boundaries (`cu_seq_lens_q`); with SDPA,
transformers turns them into a block-diagonal (row x row) mask, so every layer computes the whole row's attention and
masks most of it away, and SDPA cannot take its causal fast path. Three legal clauses in a 512-token row need ~8x
less attention work when each attends only to itself. On a GPU, FlashAttention's varlen kernels do this already;
this is the same idea with the CPU's SDPA. Anything that is not one packed row of documents (generation, padded
batches, a KV cache) goes to transformers' own SDPA unchanged.

A row may also share one prompt prefix among its documents (`core/shared_prefix.py`): the collator passes
`segment_prefix`, for every segment the index of the prefix segment it reads first (-1: none). Such a document
attends to the prefix's keys and then causally to itself, exactly what it would compute with its own copy of the
prefix in front, while the prefix is computed once per row.

Registered under transformers' AttentionInterface, the library's extension point for attention functions.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

NAME = "vft_packed_sdpa"


def _document_bounds(query: Any, key: Any, kwargs: dict[str, Any]) -> list[tuple[int, int]] | None:
    """[(start, end)] of the packed documents, or None when this call is not one self-attending packed row."""
    cu_q, cu_k = kwargs.get("cu_seq_lens_q"), kwargs.get("cu_seq_lens_k")
    if cu_q is None or cu_k is None or query.shape[0] != 1 or query.shape[2] != key.shape[2]:
        return None
    bounds = cu_q.tolist()
    if bounds != cu_k.tolist() or bounds[0] != 0 or bounds[-1] != query.shape[2]:
        return None
    return list(pairwise(bounds))


def packed_sdpa_attention(
    module: Any,
    query: Any,
    key: Any,
    value: Any,
    attention_mask: Any,
    dropout: float = 0.0,
    scaling: float | None = None,
    is_causal: bool | None = None,
    **kwargs: Any,
) -> tuple[Any, None]:
    """Same signature and output layout (batch, seq, heads, head_dim) as transformers' sdpa_attention_forward."""
    import torch
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    bounds = _document_bounds(query, key, kwargs)
    if bounds is None or not getattr(module, "is_causal", True):
        if kwargs.get("segment_prefix"):
            raise ValueError("a row that shares its prompt prefix must be one causal packed row with cu_seq_lens")
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal, **kwargs
        )
    gqa = query.shape[1] != key.shape[1]
    prefix_of = kwargs.get("segment_prefix") or [-1] * len(bounds)
    if len(prefix_of) != len(bounds):
        raise ValueError(f"segment_prefix names {len(prefix_of)} segments, the row has {len(bounds)}")
    sdpa = torch.nn.functional.scaled_dot_product_attention
    parts = []
    for (start, end), prefix in zip(bounds, prefix_of, strict=True):
        q, k, v = query[:, :, start:end], key[:, :, start:end], value[:, :, start:end]
        if prefix < 0:
            parts.append(sdpa(q, k, v, dropout_p=dropout, scale=scaling, is_causal=True, enable_gqa=gqa))
            continue
        p_start, p_end = bounds[prefix]
        k = torch.cat([key[:, :, p_start:p_end], k], dim=2)
        v = torch.cat([value[:, :, p_start:p_end], v], dim=2)
        mask = _prefix_then_causal(end - start, p_end - p_start, query.device)
        parts.append(sdpa(q, k, v, attn_mask=mask, dropout_p=dropout, scale=scaling, enable_gqa=gqa))
    return torch.cat(parts, dim=2).transpose(1, 2).contiguous(), None


def _prefix_then_causal(length: int, prefix: int, device: Any) -> Any:
    """(length, prefix + length) boolean mask: every query sees the whole prefix, then itself and what precedes it."""
    import torch

    return torch.ones(length, prefix + length, dtype=torch.bool, device=device).tril(diagonal=prefix)


def register() -> str:
    """Make NAME a valid `attn_implementation` (its masks are SDPA's, used by every call that falls back)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(NAME, packed_sdpa_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    return NAME


def use_for_packed_training(model: Any) -> bool:
    """Switch a model that attends with SDPA to the packed variant; other implementations (FlashAttention on a
    GPU handles packed rows itself, eager on request) are left alone. Returns whether it switched."""
    if getattr(model.config, "_attn_implementation", None) != "sdpa":
        return False
    model.set_attn_implementation(register())
    return True
