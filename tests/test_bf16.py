"""The bf16 path (bf16 frozen weights, fp32 LoRA weights, bf16 autocast) is what `precision: auto` picks on CPUs
with AVX512-BF16/AMX and on GPUs; it runs (slowly) on any CPU, so it is checked everywhere: LoRA gradients agree
with the fp32 path, and a short training run on the tiny model learns."""

from __future__ import annotations

import torch

from tests.conftest import clause_rows, write_jsonl


def _lora_grads(tiny_model, precision):
    from peft import LoraConfig, get_peft_model

    from core.models import load_model

    torch.manual_seed(0)
    model = load_model(str(tiny_model), precision=precision)
    model = get_peft_model(model, LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear",
                                             task_type="CAUSAL_LM", init_lora_weights="gaussian"))  # fmt: skip
    ids = torch.randint(3, 300, (2, 24), generator=torch.Generator().manual_seed(1))
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    named = {n: p for n, p in model.named_parameters() if p.requires_grad}
    return model, torch.cat([named[n].grad.float().flatten() for n in sorted(named)])


def test_bf16_weights_keep_lora_in_fp32_and_gradients_agree(tiny_model):
    model, g16 = _lora_grads(tiny_model, "bf16")
    frozen = [p.dtype for p in model.parameters() if not p.requires_grad]
    trained = [p.dtype for p in model.parameters() if p.requires_grad]
    assert set(frozen) == {torch.bfloat16} and set(trained) == {torch.float32}
    _, g32 = _lora_grads(tiny_model, "fp32")
    assert torch.nn.functional.cosine_similarity(g16, g32, dim=0) > 0.98


def test_a_bf16_run_trains(tiny_model, tmp_path):
    import json

    from core.config import build_config
    from core.pipeline import train_and_evaluate

    cfg = build_config(
        overrides={"pack": "legal", "data": str(write_jsonl(tmp_path / "c.jsonl", clause_rows())),
                   "base_model": str(tiny_model), "output_dir": str(tmp_path), "precision": "bf16", "max_steps": 6,
                   "learning_rate": 5e-3, "max_length": 256, "logging_steps": 1, "save_steps": 100}
    )  # fmt: skip
    run = train_and_evaluate("legal", cfg, name="bf16", evaluate=False)
    log = [json.loads(x) for x in (run / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    results = json.loads((run / "results.json").read_text())
    assert results["training"]["precision"] == "bf16" and losses[-1] < losses[0]


def test_an_opened_bf16_run_answers_with_bf16_adapter_weights_and_the_same_answers(small_run):
    """Inference under bf16 autocast casts fp32 LoRA weights to bf16 at every call; holding them in bf16 is the same
    arithmetic without the casts."""
    from core.loaded_run import open_run

    loaded = open_run(small_run, precision="bf16")
    lora = {n: p for n, p in loaded.model.named_parameters() if "lora_" in n}
    assert lora and all(p.dtype == torch.bfloat16 for p in lora.values())
    prompts = [[{"role": "user", "content": f"Clause {i}: either party may terminate."}] for i in range(4)]
    in_bf16 = [g.token_ids for g in loaded.generate(prompts, tuned=True, max_new_tokens=12)]
    for p in lora.values():
        p.data = p.data.float()
    assert [g.token_ids for g in loaded.generate(prompts, tuned=True, max_new_tokens=12)] == in_bf16
    in_fp32 = open_run(small_run, precision="fp32").model.named_parameters()
    assert all(p.dtype == torch.float32 for n, p in in_fp32 if "lora_" in n)
