"""QLoRA on CPU: LoRA gradients of a 4-bit model after an eval-mode forward must match an fp32 model that holds
the same (dequantized) weights. On AVX512-BF16 CPUs bitsandbytes repacks weights on eval forwards and the
gradients go silently wrong unless core.models disables that path."""

import pytest
import torch

bnb = pytest.importorskip("bitsandbytes")


def _lora(model):
    from peft import LoraConfig, get_peft_model

    return get_peft_model(
        model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    )


def test_4bit_lora_gradients_match_fp32_reference(tiny_model):
    from transformers import AutoModelForCausalLM

    from core.models import load_model

    q = load_model(str(tiny_model), quantization="4bit", precision="fp32")
    n4 = [m for m in q.modules() if isinstance(m, bnb.nn.Linear4bit)]
    assert n4 and all(m.support_avx512bf16_for_cpu is False for m in n4)
    ref = AutoModelForCausalLM.from_pretrained(str(tiny_model), dtype=torch.float32)
    ref_modules = dict(ref.named_modules())
    for name, mod in q.named_modules():
        if isinstance(mod, bnb.nn.Linear4bit):
            w = bnb.functional.dequantize_4bit(mod.weight.data, mod.weight.quant_state).float()
            ref_modules[name].weight.data.copy_(w)
    torch.manual_seed(0)
    q, ref = _lora(q), _lora(ref)
    lora_state = {k: torch.randn_like(v) * 0.05 for k, v in q.state_dict().items() if "lora_" in k}
    q.load_state_dict(lora_state, strict=False)
    ref.load_state_dict(lora_state, strict=False)
    ids = torch.randint(3, q.config.vocab_size, (2, 24))
    q.eval()
    with torch.no_grad():
        q(input_ids=ids)  # the eval-mode forward that triggers the repack on affected CPUs
    q.train()
    ref.train()
    q(input_ids=ids, labels=ids).loss.backward()
    ref(input_ids=ids, labels=ids).loss.backward()
    grads_q = {n: p.grad for n, p in q.named_parameters() if p.requires_grad}
    grads_r = {n: p.grad for n, p in ref.named_parameters() if p.requires_grad}
    assert grads_q.keys() == grads_r.keys() and grads_q
    for name in grads_q:
        torch.testing.assert_close(grads_q[name], grads_r[name], rtol=2e-3, atol=2e-5, msg=name)
