"""The rolling batch's KV-cache layer with spare room (core.rolling_batch): after any sequence of what decoding and
the rolling batch do to a cache (prefill, one-token steps past the spare room, rows dropped, left padding, rows
stacked) it holds exactly what transformers' own DynamicLayer holds."""

from __future__ import annotations

import torch
from transformers.cache_utils import DynamicLayer

from core.rolling_batch import _roomy_layer_class


def _same(a, b) -> None:
    assert a.get_seq_length() == b.get_seq_length()
    assert torch.equal(a.keys, b.keys) and torch.equal(a.values, b.values)


def test_a_roomy_layer_holds_what_a_dynamic_layer_holds():
    torch.manual_seed(0)
    roomy, plain = _roomy_layer_class()(), DynamicLayer()

    def both(k, v):
        out_r, out_p = roomy.update(k, v), plain.update(k, v)
        assert all(torch.equal(x, y) for x, y in zip(out_r, out_p, strict=True))

    both(torch.randn(3, 2, 10, 4), torch.randn(3, 2, 10, 4))  # prefill
    for _ in range(roomy.spare + 5):  # decoding steps, past the first spare room
        both(torch.randn(3, 2, 1, 4), torch.randn(3, 2, 1, 4))
    _same(roomy, plain)
    for layer in (roomy, plain):
        layer.batch_select_indices(torch.tensor([0, 2]))
        layer.keys = torch.nn.functional.pad(layer.keys, (0, 0, 3, 0))
        layer.values = torch.nn.functional.pad(layer.values, (0, 0, 3, 0))
    _same(roomy, plain)
    both(torch.randn(2, 2, 1, 4), torch.randn(2, 2, 1, 4))
    extra_k, extra_v = torch.randn(1, 2, plain.get_seq_length(), 4), torch.randn(1, 2, plain.get_seq_length(), 4)
    for layer in (roomy, plain):
        layer.keys, layer.values = torch.cat([layer.keys, extra_k]), torch.cat([layer.values, extra_v])
    both(torch.randn(3, 2, 1, 4), torch.randn(3, 2, 1, 4))
    _same(roomy, plain)
    assert roomy.get_seq_length() == 10 + roomy.spare + 5 + 3 + 2
