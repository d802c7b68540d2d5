"""Training throughput, side by side in one script: (a) the plain TRL recipe a user would write (SFTTrainer with its
defaults made to run on CPU: fp32, padded batches of 8, gradient checkpointing on) against (b) `vft train`'s path
(pre-tokenized completion-only examples, padding-free packing, no checkpointing, precision: auto), on the same
model, data (the legal pack's bundled training split), LoRA settings and number of optimizer steps; (b) packs as
many 512-token rows per step as (a)'s 8 examples fill, so both see about the same data before the loss is compared.

Each arm runs in its own process (peak RSS is per process). Both are scored with the same held-out loss function
(mean cross-entropy on the answer tokens of the same dev examples). MFU uses ~4 x params FLOPs per trained token
(LoRA: forward + activation gradients, no weight gradients of the base) against a matmul peak measured here.

python -m bench.train_throughput [--steps 12] [--dev 24]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import save, table

LORA = {"r": 16, "alpha": 32, "dropout": 0.05}
PLAIN_BATCH = 8


def matmul_peak(dtype_name: str, n: int = 2048, reps: int = 6) -> float:
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    started = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - started)


def _splits(dev: int) -> tuple[Any, list, list]:
    from core.data import prepare_splits
    from core.pack import get_pack

    pack = get_pack("legal")
    splits = prepare_splits(pack, pack.sample_data_path(), eval_fraction=0.1, test_fraction=0.2, seed=42)
    return pack, splits.train, splits.dev[:dev]


def held_out_loss(model: Any, tokenizer: Any, pack: Any, dev: list) -> float:
    """Mean cross-entropy per answer token over the dev examples (identical for both arms)."""
    import torch

    from core.formatting import tokenize_example

    model.eval()
    total = count = 0.0
    with torch.no_grad():
        for ex in dev:
            tok = tokenize_example(tokenizer, pack.prompt_messages(ex), ex.target, 512)
            ids = torch.tensor([tok.input_ids])
            mask = torch.tensor(tok.completion_mask[1:], dtype=torch.bool)
            logits = model(input_ids=ids).logits[0, :-1].float()
            losses = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
            total += float(losses[mask].sum())
            count += int(mask.sum())
    return total / max(count, 1)


def arm_plain(steps: int, dev_n: int) -> dict[str, Any]:
    """(a) what the TRL docs lead a user to write, made to run on a CPU."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from core.models import resolve

    pack, train, dev = _splits(dev_n)
    path = resolve("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = [
        {"prompt": pack.prompt_messages(ex), "completion": [{"role": "assistant", "content": ex.target}]}
        for ex in train
    ]
    args = SFTConfig(
        output_dir="/tmp/vft-bench-plain", max_steps=steps, per_device_train_batch_size=PLAIN_BATCH,
        gradient_accumulation_steps=1,
        gradient_checkpointing=True, bf16=False, use_cpu=True, learning_rate=4e-4, logging_steps=1, report_to="none",
        save_strategy="no", max_length=512, packing=False, seed=42, disable_tqdm=True,
    )  # fmt: skip
    model = AutoModelForCausalLM.from_pretrained(path)
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tokenizer,
        peft_config=LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], lora_dropout=LORA["dropout"],
                               target_modules="all-linear", task_type="CAUSAL_LM"),
    )  # fmt: skip
    lengths = [len(x) for x in trainer.train_dataset["input_ids"]]
    from core.formatting import tokenize_example

    # the same examples through vft's tokenizer path: answer-token counts (TRL drops its mask column early)
    completion = [
        tokenize_example(tokenizer, pack.prompt_messages(ex), ex.target, 512).supervised_tokens for ex in train
    ]
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    examples = steps * PLAIN_BATCH
    mean_len, mean_sup = sum(lengths) / len(lengths), sum(completion) / len(completion)
    return {
        "seconds": seconds,
        "examples": examples,
        "tokens": examples * mean_len,
        "supervised_tokens": examples * mean_sup,
        "padded_tokens": examples * max(lengths),
        "eval_loss": held_out_loss(trainer.model, tokenizer, pack, dev),
    }


def arm_vft(steps: int, dev_n: int) -> dict[str, Any]:
    """(b) the path `vft train` takes (core.train.train with the pack's defaults)."""
    import tempfile

    from core.config import build_config
    from core.formatting import tokenize_example
    from core.models import load_tokenizer, resolve, resolve_precision, resolve_quantization
    from core.train import train

    pack, train_ex, dev = _splits(dev_n)
    path = resolve("smollm2-135m")
    tokenizer = load_tokenizer(path)
    mean_tokens = sum(
        len(tokenize_example(tokenizer, pack.prompt_messages(ex), ex.target, 512).input_ids) for ex in train_ex
    ) / len(train_ex)
    # the same data per optimizer step as (a)'s 8 padded examples: enough packed rows of 512 tokens to hold them
    grad_accum = max(1, round(PLAIN_BATCH * mean_tokens / 512))
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={"pack": "legal", "max_steps": steps, "save_steps": 10_000, "eval_steps": 10_000,
                   "learning_rate": 4e-4, "lora": LORA, "logging_steps": 1, "max_length": 512, "batch_size": 1,
                   "grad_accum": grad_accum},
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        result = train(
            pack, cfg, train_ex, [], Path(tmp), model_path=path, precision=resolve_precision(cfg.model.precision),
            quantization=resolve_quantization(cfg.model.quantization),
        )  # fmt: skip
        from peft import PeftModel
        from transformers import AutoModelForCausalLM

        model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(path), str(result.adapter_dir))
        loss = held_out_loss(model, tokenizer, pack, dev)
    examples_seen = steps * cfg.training.batch_size * cfg.training.grad_accum  # packed rows, each >= 1 example
    tokens = result.tokens_per_second * result.train_runtime_s
    per_example = result.train_tokens.tokens / max(result.train_tokens.examples, 1)
    return {
        "seconds": result.train_runtime_s,
        "examples": tokens / per_example,
        "packed_rows": examples_seen,
        "tokens": tokens,
        "supervised_tokens": result.supervised_tokens_per_second * result.train_runtime_s,
        "precision": resolve_precision(cfg.model.precision),
        "grad_accum": grad_accum,
        "eval_loss": loss,
    }


def child(arm: str, steps: int, dev: int) -> None:
    out = (arm_plain if arm == "plain" else arm_vft)(steps, dev)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--dev", type=int, default=24)
    ap.add_argument("--arm", choices=["plain", "vft"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.arm:
        child(args.arm, args.steps, args.dev)
        return
    from core.models import cpu_supports_bf16

    peaks = {"fp32": matmul_peak("float32"), "bf16": matmul_peak("bfloat16")}
    arms: dict[str, dict[str, Any]] = {}
    for arm in ("plain", "vft"):
        cmd = [sys.executable, "-m", "bench.train_throughput", "--arm", arm, "--steps", str(args.steps), "--dev",
               str(args.dev)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            raise SystemExit(f"arm {arm} failed:\n{proc.stderr[-3000:]}")
        arms[arm] = json.loads(line[7:])
    params = 134.5e6
    for a in arms.values():
        a["tokens_per_s"] = a["tokens"] / a["seconds"]
        a["supervised_tokens_per_s"] = a["supervised_tokens"] / a["seconds"]
        a["examples_per_s"] = a["examples"] / a["seconds"]
    b = arms["vft"]
    peak = peaks["bf16"] if b.get("precision") == "bf16" else peaks["fp32"]
    b["mfu"] = b["tokens_per_s"] * 4 * params / peak
    rows = [
        [name, a["tokens_per_s"], a["supervised_tokens_per_s"], a["examples_per_s"], a["peak_rss_mb"], a["eval_loss"]]
        for name, a in (("(a) plain TRL", arms["plain"]), ("(b) vft train", b))
    ]
    print(table(["recipe", "tokens/s", "supervised tok/s", "examples/s", "peak RSS MB", "held-out loss"], rows))
    ratio = b["tokens_per_s"] / arms["plain"]["tokens_per_s"]
    print(f"b/a tokens/s: {ratio:.2f}x; b MFU {b['mfu']:.1%} of the measured {b.get('precision')} matmul peak "
          f"({peak / 1e9:.0f} GFLOP/s; fp32 {peaks['fp32'] / 1e9:.0f}, bf16 {peaks['bf16'] / 1e9:.0f}); "
          f"native bf16 on this CPU: {cpu_supports_bf16()}")  # fmt: skip
    path = save(
        "train_throughput",
        {"arms": arms, "ratio_tokens_per_s": ratio, "matmul_peak_flops": peaks, "settings": vars(args)},
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
