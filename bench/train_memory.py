"""Peak memory of LoRA training: the default model and a ~0.5B-class model, with the frozen base held in fp32 (what
`vft train` keeps on a CPU), bf16 (what it loads on a GPU) and 4-bit NF4 (QLoRA).

Each configuration runs in its own process (peak RSS is per process): load the base, wrap it with the same LoRA
settings as `vft train` (r=16 on all linear layers), and take a few AdamW steps on one packed row of `--length`
tokens. The 0.5B-class model is built from a config (random weights, the default tokenizer's vocabulary): memory
does not depend on what the weights hold, and nothing is downloaded.

python -m bench.train_memory [--steps 2] [--length 512]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import save, table

# Llama-architecture config of ~0.49B parameters with the default model's 49,152-token vocabulary.
HALF_B = {"hidden_size": 1280, "intermediate_size": 3584, "num_hidden_layers": 24, "num_attention_heads": 20,
          "num_key_value_heads": 5, "tie_word_embeddings": True}  # fmt: skip
WEIGHTS = ("fp32", "bf16", "4bit")


def build_half_b(default_path: str, out: Path) -> Path:
    """Save a randomly initialised ~0.5B model (safetensors) with the default model's tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(default_path)
    for key, value in HALF_B.items():
        setattr(config, key, value)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.save_pretrained(out, safe_serialization=True)
    AutoTokenizer.from_pretrained(default_path).save_pretrained(out)
    return out


def child(path: str, weights: str, steps: int, length: int) -> dict[str, Any]:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from core.models import load_model

    if weights == "bf16":  # a frozen base in bf16, as `vft train` loads it on a GPU
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.bfloat16, use_safetensors=True)
    else:
        model = load_model(path, quantization="4bit" if weights == "4bit" else "none", precision="fp32")
    loaded_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    params = sum(p.numel() for p in model.parameters())
    model = get_peft_model(
        model, LoraConfig(r=16, lora_alpha=32, lora_dropout=0.05, target_modules="all-linear", task_type="CAUSAL_LM")
    )
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    ids = torch.randint(3, model.config.vocab_size, (1, length))
    started = time.perf_counter()
    for _ in range(steps):
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return {
        "params": params,
        "loaded_rss_mb": loaded_rss,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "seconds_per_step": (time.perf_counter() - started) / steps,
        "loss_finite": bool(torch.isfinite(loss)),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--length", type=int, default=512)
    ap.add_argument("--child", nargs=2, metavar=("PATH", "WEIGHTS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print("RESULT " + json.dumps(child(args.child[0], args.child[1], args.steps, args.length)))
        return
    from core.models import resolve

    default = resolve("smollm2-135m")
    rows, out = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        models = {"SmolLM2-135M (default)": default, "0.5B-class (Llama config)": str(build_half_b(default, Path(tmp)))}
        for model_name, path in models.items():
            for weights in WEIGHTS:
                cmd = [sys.executable, "-m", "bench.train_memory", "--child", path, weights, "--steps",
                       str(args.steps), "--length", str(args.length)]  # fmt: skip
                proc = subprocess.run(cmd, capture_output=True, text=True)
                line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
                if line is None:
                    raise SystemExit(f"{model_name} {weights} failed:\n{proc.stderr[-3000:]}")
                res = json.loads(line[7:])
                out[f"{model_name} | {weights}"] = res
                res["params"] = out[f"{model_name} | fp32"]["params"]  # 4-bit storage packs two weights per element
                rows.append([model_name, weights, f"{res['params'] / 1e6:.0f}M", round(res["loaded_rss_mb"]),
                             round(res["peak_rss_mb"]), round(res["seconds_per_step"], 1)])  # fmt: skip
                print(rows[-1], flush=True)
    print(table(["model", "frozen base", "params", "RSS after load MB", "peak RSS MB", "s/step"], rows))
    print(f"wrote {save('train_memory', {'configs': out, 'settings': vars(args), 'half_b_config': HALF_B})}")


if __name__ == "__main__":
    main()
