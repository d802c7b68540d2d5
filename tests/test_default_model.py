"""On the real default model (SmolLM2-135M-Instruct from the PyPI wheel): a few LoRA steps lower the loss, the
adapter saves and reloads, and generation with it differs from the base model."""

import json

import pytest

pytestmark = pytest.mark.slow


def test_lora_steps_on_default_model(tmp_path):
    import torch
    from peft import PeftModel

    from core.config import build_config
    from core.formatting import chat_ids
    from core.models import load_model, load_tokenizer, resolve
    from core.pack import get_pack
    from core.train import train

    pack = get_pack("legal")
    examples = pack.load(pack.sample_data_path()).examples[:16]
    pack.fit(pack.load(pack.sample_data_path()).examples)
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={
            "max_steps": 8,
            "learning_rate": 1e-3,
            "max_length": 512,
            "batch_size": 1,
            "grad_accum": 1,
            "save_steps": 100,
            "logging_steps": 1,
            "eval_steps": 100,
            "precision": "fp32",
        },
    )
    path = resolve("smollm2-135m")
    result = train(pack, cfg, examples, [], tmp_path, model_path=path, precision="fp32", quantization="none")
    log = [json.loads(line) for line in (tmp_path / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) >= 4 and sum(losses[-2:]) / 2 < losses[0]
    assert (result.adapter_dir / "adapter_model.safetensors").is_file()

    tokenizer = load_tokenizer(str(result.adapter_dir))
    model = PeftModel.from_pretrained(load_model(path, for_training=False), str(result.adapter_dir))
    ids = torch.tensor([chat_ids(tokenizer, pack.prompt_messages(examples[0]), add_generation_prompt=True)])
    with torch.inference_mode():
        tuned = model.generate(input_ids=ids, max_new_tokens=16, do_sample=False)
        with model.disable_adapter():
            base = model.generate(input_ids=ids, max_new_tokens=16, do_sample=False)
    assert tuned[0, ids.shape[1] :].tolist() != base[0, ids.shape[1] :].tolist()
    assert tokenizer.decode(tuned[0, ids.shape[1] :], skip_special_tokens=True).strip().startswith('{"label"')
