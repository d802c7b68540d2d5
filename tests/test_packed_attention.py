"""Packed training rows attend per document: the same logits and gradients as transformers' SDPA with its
block-diagonal mask, and everything that is not a packed row (generation, padded batches) is SDPA unchanged."""

from __future__ import annotations

import pytest
import torch

from core.packed_attention import NAME, packed_sdpa_attention, use_for_packed_training


def _model(tiny_model):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa", dtype=torch.float32)


def _packed_row(lengths: list[int], vocab: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (1, sum(lengths)), generator=generator)
    positions = torch.cat([torch.arange(n) for n in lengths]).unsqueeze(0)
    bounds = torch.tensor([0, *torch.tensor(lengths).cumsum(0).tolist()], dtype=torch.int32)
    return {"input_ids": ids, "position_ids": positions, "cu_seq_lens_q": bounds, "cu_seq_lens_k": bounds,
            "max_length_q": max(lengths), "max_length_k": max(lengths)}  # fmt: skip


def _logits_and_grads(model, batch):
    model.zero_grad(set_to_none=True)
    logits = model(**batch, use_cache=False).logits
    logits.square().mean().backward()
    return logits.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_a_packed_row_gives_the_same_logits_and_gradients_as_masked_sdpa(tiny_model, monkeypatch):
    model = _model(tiny_model)
    batch = _packed_row([7, 12, 5], model.config.vocab_size)
    reference, reference_grads = _logits_and_grads(model, batch)
    assert use_for_packed_training(model) and model.config._attn_implementation == NAME
    sdpa, lengths = torch.nn.functional.scaled_dot_product_attention, []

    def spy(query, *args, **kwargs):
        lengths.append((query.shape[2], kwargs.get("is_causal")))
        return sdpa(query, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "scaled_dot_product_attention", spy)
    logits, grads = _logits_and_grads(model, batch)
    assert lengths == [(7, True), (12, True), (5, True)] * model.config.num_hidden_layers  # one causal call per doc
    torch.testing.assert_close(logits, reference, rtol=1e-5, atol=1e-5)
    for name, grad in grads.items():
        torch.testing.assert_close(grad, reference_grads[name], rtol=1e-4, atol=1e-5, msg=name)


def test_documents_in_a_row_do_not_see_each_other(tiny_model):
    model = _model(tiny_model)
    use_for_packed_training(model)
    batch = _packed_row([6, 9], model.config.vocab_size)
    changed = {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
    changed["input_ids"][0, :6] = (changed["input_ids"][0, :6] + 1) % model.config.vocab_size  # edit document 1
    with torch.no_grad():
        before, after = model(**batch).logits, model(**changed).logits
    torch.testing.assert_close(after[0, 6:], before[0, 6:])  # document 2 is untouched by document 1
    assert not torch.allclose(after[0, :6], before[0, :6])


def test_calls_that_are_not_a_packed_row_fall_back_to_sdpa(tiny_model):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    module = _model(tiny_model).model.layers[0].self_attn
    q, k, v = (torch.randn(2, 4, 5, 16) for _ in range(3))
    k, v = k[:, :2], v[:, :2]  # grouped-query attention, as the tiny model has
    ours, _ = packed_sdpa_attention(module, q, k, v, None, scaling=0.25)
    theirs, _ = sdpa_attention_forward(module, q, k, v, None, scaling=0.25)
    torch.testing.assert_close(ours, theirs)


def test_generation_with_the_packed_implementation_is_unchanged(tiny_model):
    model = _model(tiny_model)
    prompt = torch.tensor([[5, 6, 7, 8, 9]])
    expected = model.generate(prompt, max_new_tokens=6, do_sample=False)
    use_for_packed_training(model)
    assert torch.equal(model.generate(prompt, max_new_tokens=6, do_sample=False), expected)


@pytest.mark.parametrize("implementation", ["eager"])
def test_other_attention_implementations_are_left_alone(tiny_model, implementation):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation=implementation)
    assert not use_for_packed_training(model) and model.config._attn_implementation == implementation
