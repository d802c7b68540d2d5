"""`vft export`: ship the adapter folder as is, or merge it into the base weights (safetensors)."""

from __future__ import annotations

import shutil
from pathlib import Path

from core.errors import RunError
from core.io import atomic_path
from core.run_folder import RunFolder


def export_run(run_dir: Path, out: Path, *, merge: bool = False) -> str:
    folder, out = RunFolder.open(run_dir), Path(out)
    if not folder.has_adapter():
        raise RunError(f"{folder.path}: no adapter to export (train first)")
    cfg = folder.load_config()
    if not merge:
        with atomic_path(out, directory=True) as tmp:
            shutil.copytree(folder.adapter_dir, tmp, dirs_exist_ok=True)
        return (
            f"adapter written to {out}\n"
            f"  transformers: AutoModelForCausalLM.from_pretrained(BASE) + PeftModel.from_pretrained(m, '{out}')\n"
            f"  vLLM:  vllm serve BASE --enable-lora --lora-modules {cfg.pack}={out}\n"
            f"  TGI:   --model-id BASE --lora-adapters {cfg.pack}={out}\n"
            f"  BASE = the base model ({cfg.model.base_model}); for the default alias use the cached folder from "
            "`vft models`."
        )
    from core.loaded_run import open_run

    loaded = open_run(folder, device="cpu", precision="fp32", require_adapter=True)  # full-precision weights to merge
    merged = loaded.model.merge_and_unload()
    with atomic_path(out, directory=True) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        loaded.tokenizer.save_pretrained(tmp)
    return (
        f"merged model written to {out} (safetensors)\n"
        f"  vLLM: vllm serve {out}\n  TGI:  --model-id {out}\n"
        f"  transformers: AutoModelForCausalLM.from_pretrained('{out}')"
    )
