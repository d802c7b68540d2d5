"""`vft export`: ship the adapter folder as is, or merge it into the base weights (safetensors)."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import RunError
from core.io import atomic_path


def export_run(run_dir: Path, out: Path, *, merge: bool = False) -> str:
    from core.runs import adapter_dir, has_adapter, load_config

    run_dir, out = Path(run_dir), Path(out)
    if not has_adapter(run_dir):
        raise RunError(f"{run_dir}: no adapter to export (train first)")
    cfg = load_config(run_dir)
    if not merge:
        with atomic_path(out, directory=True) as tmp:
            shutil.copytree(adapter_dir(run_dir), tmp, dirs_exist_ok=True)
        return (
            f"adapter written to {out}\n"
            f"  transformers: AutoModelForCausalLM.from_pretrained(BASE) + PeftModel.from_pretrained(m, '{out}')\n"
            f"  vLLM:  vllm serve BASE --enable-lora --lora-modules {cfg.pack}={out}\n"
            f"  TGI:   --model-id BASE --lora-adapters {cfg.pack}={out}\n"
            f"  BASE = the base model ({cfg.base_model}); for the default alias use the cached folder from "
            "`vft models`."
        )
    from peft import PeftModel

    from core.models import load_model, load_tokenizer, resolve

    base = load_model(resolve(cfg.base_model), precision="fp32", for_training=False)
    merged = PeftModel.from_pretrained(base, str(adapter_dir(run_dir))).merge_and_unload()
    tokenizer = load_tokenizer(str(adapter_dir(run_dir)))
    with atomic_path(out, directory=True) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    return (
        f"merged model written to {out} (safetensors)\n"
        f"  vLLM: vllm serve {out}\n  TGI:  --model-id {out}\n"
        f"  transformers: AutoModelForCausalLM.from_pretrained('{out}')"
    )
