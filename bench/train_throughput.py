"""Training speed as a user feels it, side by side in one run: the same training examples (a seeded subset of a pack's
bundled sample), one epoch, each arm in its own process (peak RSS is per process):

- plain TRL, full prompt: SFTTrainer with its CPU defaults (fp32, padded batches of 8, gradient checkpointing) and
  the pack's full prompt;
- plain TRL, compact / minimal prompt: the same recipe with the pack's compact prompt (no label definitions) or
  its minimal one (no label list); the arm with the prompt `vft train` uses is the stricter comparison: the prompt is
  then not a difference between the arms;
- vft train, fp32: `core.train.train` as `vft train` runs it (pre-tokenized completion-only examples packed
  padding-free, no checkpointing, the pack's default adapter prompt), forced to fp32;
- vft train, auto: the same with `precision: auto` (bf16 weights + autocast where the CPU has native bf16).

Reported: training examples/s, tokens/s (the examples' tokens), MFU against matmul peaks measured in the same run
(fp32 and bf16; ~4 x params FLOPs per token the model computed: LoRA forward + activation gradients; a row sharing
its prompt prefix computes the prefix once), peak RSS, and held-out loss (mean cross-entropy
on the answer tokens of the same dev examples, each arm scored with its own prompt) after the same examples.

The plain recipe keeps the LoRA settings of TRL's PEFT examples (r 16, alpha 32, dropout 0.05); the vft arms use the
same rank and alpha and everything else from the pack's defaults, as `vft train` would. `--set key=value` changes a
vft arm's config, so one lever can be measured at a time (e.g. `--set lora.dropout=0.05`).

python -m bench.train_throughput [--pack legal] [--examples 96] [--dev 24] [--arms ...] [--set key=value ...]
    [--tag xeon_bf16]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import save, table

LORA = {"r": 16, "alpha": 32, "dropout": 0.05}
PLAIN_BATCH = 8
PARAMS = 134.5e6
PLAIN_STYLES = {"plain_full": "full", "plain_compact": "compact", "plain_minimal": "minimal"}
# the plain recipe with TRL's bf16=True (autocast), its fairest opponent on a CPU with native bf16
PLAIN_BF16 = {"plain_compact_bf16": "compact"}
ARMS = (*PLAIN_STYLES, *PLAIN_BF16, "vft_fp32", "vft_auto")
NEEDS_NATIVE_BF16 = ("vft_auto", *PLAIN_BF16)


def matmul_peak(dtype_name: str, n: int = 2048, reps: int = 8) -> float:
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    started = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - started)


def _data(pack_name: str, n: int, dev_n: int) -> tuple[Any, list, list]:
    from core.data import prepare_splits
    from core.pack import get_pack

    pack = get_pack(pack_name)
    splits = prepare_splits(pack, pack.sample_data_path(), eval_fraction=0.1, test_fraction=0.2, seed=42)
    train = random.Random(0).sample(splits.train, min(n, len(splits.train)))
    return pack, train, splits.dev[:dev_n]


def held_out_loss(model: Any, tokenizer: Any, pack: Any, dev: list, style: str, max_length: int) -> float:
    """Mean cross-entropy per answer token over the dev examples."""
    import torch

    from core.formatting import tokenize_example

    model.eval()
    total = count = 0.0
    with torch.no_grad():
        for ex in dev:
            tok = tokenize_example(tokenizer, pack.prompt_messages(ex, style=style), ex.target, max_length)
            ids = torch.tensor([tok.input_ids])
            mask = torch.tensor(tok.completion_mask[1:], dtype=torch.bool)
            logits = model(input_ids=ids).logits[0, :-1].float()
            losses = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
            total += float(losses[mask].sum())
            count += int(mask.sum())
    return total / max(count, 1)


def arm_plain(pack_name: str, n: int, dev_n: int, style: str, max_length: int, bf16: bool = False) -> dict[str, Any]:
    """What the TRL docs lead a user to write, made to run on a CPU (bf16: TRL's own mixed precision)."""
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    from core.formatting import tokenize_example
    from core.models import resolve

    pack, train, dev = _data(pack_name, n, dev_n)
    path = resolve("smollm2-135m")
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = [
        {"prompt": pack.prompt_messages(ex, style=style),
         "completion": [{"role": "assistant", "content": ex.target}]}
        for ex in train
    ]  # fmt: skip
    args = SFTConfig(
        output_dir=tempfile.mkdtemp(prefix="vft-bench-plain-"), num_train_epochs=1,
        per_device_train_batch_size=PLAIN_BATCH, gradient_accumulation_steps=1, gradient_checkpointing=True,
        bf16=bf16, use_cpu=True, learning_rate=4e-4, logging_steps=1, report_to="none", save_strategy="no",
        max_length=max_length, packing=False, seed=42, disable_tqdm=True,
    )  # fmt: skip
    trainer = SFTTrainer(
        model=AutoModelForCausalLM.from_pretrained(path), args=args, train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        peft_config=LoraConfig(r=LORA["r"], lora_alpha=LORA["alpha"], lora_dropout=LORA["dropout"],
                               target_modules="all-linear", task_type="CAUSAL_LM"),
    )  # fmt: skip
    tokens = sum(
        len(tokenize_example(tokenizer, pack.prompt_messages(ex, style=style), ex.target, max_length).input_ids)
        for ex in train
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    loss = held_out_loss(trainer.model, tokenizer, pack, dev, style, max_length)
    return {
        "seconds": seconds,
        "examples": len(train),
        "tokens": tokens,
        "eval_loss": loss,
        "precision": "bf16" if bf16 else "fp32",
        "prompt": style,
    }


def arm_vft(
    pack_name: str, n: int, dev_n: int, precision: str, max_length: int, sets: list[str] | None = None
) -> dict[str, Any]:
    """The path `vft train` takes (core.train.train) with the pack's defaults (its adapter prompt included) but
    for `sets`."""
    from core.config import build_config, merge_overrides, parse_overrides
    from core.models import load_model, resolve, resolve_precision
    from core.train import train

    pack, train_ex, dev = _data(pack_name, n, dev_n)
    path = resolve("smollm2-135m")
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides=merge_overrides(
            {"pack": pack_name, "epochs": 1, "save_steps": 10_000, "eval_steps": 10_000, "learning_rate": 4e-4,
             "lora": {"r": LORA["r"], "alpha": LORA["alpha"]}, "logging_steps": 1, "max_length": max_length,
             "precision": precision},
            parse_overrides(sets or []),
        ),
    )  # fmt: skip
    resolved = resolve_precision(cfg.model.precision)
    with tempfile.TemporaryDirectory() as tmp:
        result = train(
            pack, cfg, train_ex, [], Path(tmp), model_path=path, precision=resolved, quantization="none"
        )  # fmt: skip
        from peft import PeftModel

        from core.models import load_tokenizer

        base = load_model(path, precision="fp32", for_training=False)
        model = PeftModel.from_pretrained(base, str(result.adapter_dir))
        loss = held_out_loss(model, load_tokenizer(path), pack, dev, cfg.training.prompt, max_length)
    return {
        "seconds": result.train_runtime_s,
        "examples": result.train_tokens.examples,
        "tokens": result.train_tokens.tokens,
        "eval_loss": loss,
        "precision": resolved,
        "optimizer_steps": result.global_step,
        # tokens the model computed: fewer than the examples' tokens when rows share their prompt prefix
        "tokens_computed": (result.shared_prefix or {}).get("tokens_after", result.train_tokens.tokens),
        "shared_prefix": result.shared_prefix,
        "lora_dropout": cfg.lora.dropout,
        "prompt": cfg.training.prompt,
        "overrides": sets or [],
    }


def child(arm: str, pack: str, n: int, dev: int, max_length: int, sets: list[str]) -> None:
    if arm in PLAIN_STYLES:
        out = arm_plain(pack, n, dev, PLAIN_STYLES[arm], max_length)
    elif arm in PLAIN_BF16:
        out = arm_plain(pack, n, dev, PLAIN_BF16[arm], max_length, bf16=True)
    else:
        out = arm_vft(pack, n, dev, "fp32" if arm == "vft_fp32" else "auto", max_length, sets)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="legal")
    ap.add_argument("--examples", type=int, default=96)
    ap.add_argument("--dev", type=int, default=24)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--arms", help="comma-separated (default: all; the bf16 arms only where the CPU has native bf16)")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="vft arm config override key=value")
    ap.add_argument("--tag", help="suffix of the result file, so a run on another machine keeps the last one")
    ap.add_argument("--arm", choices=ARMS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.arm:
        child(args.arm, args.pack, args.examples, args.dev, args.max_length, args.sets)
        return
    from core.machine import cpu_name, cpu_supports_bf16

    native_bf16 = cpu_supports_bf16()
    # without native bf16 the bf16 peak is an emulation (minutes to measure) and no arm runs in bf16
    peaks = {"fp32": matmul_peak("float32"), "bf16": matmul_peak("bfloat16") if native_bf16 else None}
    arms: dict[str, dict[str, Any]] = {}
    chosen = args.arms.split(",") if args.arms else [a for a in ARMS if a not in NEEDS_NATIVE_BF16 or native_bf16]
    for arm in chosen:
        cmd = [sys.executable, "-m", "bench.train_throughput", "--arm", arm, "--pack", args.pack, "--examples",
               str(args.examples), "--dev", str(args.dev), "--max-length", str(args.max_length),
               *(f"--set={kv}" for kv in args.sets)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if line is None:
            raise SystemExit(f"arm {arm} failed:\n{proc.stderr[-3000:]}")
        arms[arm] = a = json.loads(line[7:])
        a["examples_per_s"] = a["examples"] / a["seconds"]
        a["tokens_per_s"] = a["tokens"] / a["seconds"]
        computed_per_s = a.get("tokens_computed", a["tokens"]) / a["seconds"]
        peak = peaks.get(a["precision"])
        a["mfu"] = computed_per_s * 4 * PARAMS / peak if peak else None
        print(f"{arm}: {a['examples_per_s']:.3f} examples/s, {a['tokens_per_s']:.0f} tokens/s", flush=True)
    rows = [[name, a["precision"], a["examples_per_s"], a["tokens_per_s"], _percent(a["mfu"]), a["peak_rss_mb"],
             a["eval_loss"]] for name, a in arms.items()]  # fmt: skip
    print(table(["arm", "precision", "examples/s", "tokens/s", "MFU", "peak RSS MB", "held-out loss"], rows))
    ratios = {}
    for base in (*PLAIN_STYLES, *PLAIN_BF16):
        for arm in ("vft_fp32", "vft_auto"):
            if base in arms and arm in arms:
                ratios[f"{arm}/{base}"] = arms[arm]["examples_per_s"] / arms[base]["examples_per_s"]
    print("examples/s ratios: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    bf16_peak = f"{peaks['bf16'] / 1e9:.0f} GFLOP/s" if peaks["bf16"] else "not measured (no native bf16)"
    print(f"CPU: {cpu_name()}; native bf16: {native_bf16}; matmul peaks fp32 {peaks['fp32'] / 1e9:.0f} GFLOP/s, "
          f"bf16 {bf16_peak}")  # fmt: skip
    name = "train_throughput" if args.pack == "legal" else f"train_throughput_{args.pack}"
    name += f"_{args.tag}" if args.tag else ""
    print(f"wrote {save(name, {'arms': arms, 'ratios': ratios, 'matmul_peak_flops': peaks, 'settings': vars(args)})}")


if __name__ == "__main__":
    main()
