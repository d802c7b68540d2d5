"""Each training-speed lever measured alone, side by side in one process: forward + backward of the same packed
training rows of a pack's sample (the path `vft train` runs), with the levers added one at a time:

1. trl's loss (every position projected through the vocabulary on a CPU), LoRA dropout 0.05, SDPA with the packed
   rows' block-diagonal mask: the recipe before these levers;
2. + the loss on supervised positions only (core/completion_loss.py);
3. + LoRA dropout 0 (the default now);
4. + per-document causal attention in packed rows (core/packed_attention.py);
5. + the prompt prefix computed once per row (core/shared_prefix.py): the same documents in each row, fewer tokens;
6. optionally (`--top-layers 15 10`), + LoRA on the last N blocks only (`lora.top_layers`).

Configurations are timed in turns (round-robin over repeats), so drifting machine speed hits them alike; the
median seconds per micro-batch and the speed-up over configuration 1 are reported.

python -m bench.train_levers [--pack legal] [--rows 4] [--repeats 3] [--top-layers N ...]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import save, table

LEVERS = ("trl_loss+dropout+masked_sdpa", "+supervised_loss", "+no_dropout", "+packed_attention", "+shared_prefix")


def _trainer(pack: Any, train: list, dropout: float, top_layers: int | None = None, share: bool = False) -> Any:
    from core.config import build_config
    from core.models import resolve
    from core.run_folder import RunFolder
    from core.train import build_trainer

    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={"pack": pack.name, "epochs": 1, "save_steps": 10**6, "eval_steps": 10**6, "precision": "fp32",
                   "lora": {"dropout": dropout, "top_layers": top_layers}, "share_prompt_prefix": share},
    )  # fmt: skip
    folder = RunFolder(Path(tempfile.mkdtemp(prefix="vft-levers-")))
    return build_trainer(
        pack, cfg, train, [], folder, model_path=resolve("smollm2-135m"), precision="fp32", quantization="none"
    ).trainer


def _pass(trainer: Any, batch: dict[str, Any], trl_loss: bool, attention: str) -> float:
    from trl import SFTTrainer

    model = trainer.model
    model.get_base_model().set_attn_implementation(attention)
    inputs = {k: v for k, v in batch.items() if hasattr(v, "shape") or k == "segment_prefix"}
    loss_fn = SFTTrainer.compute_loss if trl_loss else type(trainer).compute_loss
    started = time.perf_counter()
    loss_fn(trainer, model, dict(inputs)).backward()
    seconds = time.perf_counter() - started
    model.zero_grad(set_to_none=True)
    return seconds


def main() -> None:
    import random

    from core.data import prepare_splits
    from core.machine import cpu_name, cpu_supports_bf16
    from core.pack import get_pack
    from core.packed_attention import register

    ap = argparse.ArgumentParser()
    ap.add_argument("--pack", default="legal")
    ap.add_argument("--rows", type=int, default=4, help="packed training rows timed per configuration and repeat")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--top-layers", type=int, nargs="*", default=[], help="also time LoRA on the last N blocks only")
    args = ap.parse_args()

    pack = get_pack(args.pack)
    splits = prepare_splits(pack, pack.sample_data_path(), eval_fraction=0.1, test_fraction=0.2, seed=42)
    train = random.Random(0).sample(splits.train, min(96, len(splits.train)))
    with_dropout, without = _trainer(pack, train, 0.05), _trainer(pack, train, 0.0)
    shared = _trainer(pack, train, 0.0, share=True)
    batches = [b for _, b in zip(range(args.rows + 1), with_dropout.get_train_dataloader(), strict=False)]
    # the same documents in the same rows (trl's packing, the same shuffle), each row holding the prefix once
    shared_batches = [b for _, b in zip(range(args.rows + 1), shared.get_train_dataloader(), strict=False)]
    for plain_row, shared_row in zip(batches, shared_batches, strict=True):
        assert (plain_row["labels"] != -100).sum() == (shared_row["labels"] != -100).sum(), "rows differ"
    top = {n: _trainer(pack, train, 0.0, n, share=True) for n in args.top_layers}
    for trainer in (with_dropout, without, shared, *top.values()):
        trainer.model.train()
    packed = register()
    configs = {
        LEVERS[0]: (with_dropout, True, "sdpa"),
        LEVERS[1]: (with_dropout, False, "sdpa"),
        LEVERS[2]: (without, False, "sdpa"),
        LEVERS[3]: (without, False, packed),
        LEVERS[4]: (shared, False, packed),
    }
    configs.update({f"+top_layers={n}": (trainer, False, packed) for n, trainer in top.items()})
    rows_of = {name: batches if name in LEVERS[:4] else shared_batches for name in configs}
    for name, (trainer, trl_loss, attention) in configs.items():  # warm-up, untimed
        _pass(trainer, rows_of[name][0], trl_loss, attention)
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.repeats):
        for i in range(1, len(batches)):
            for name, (trainer, trl_loss, attention) in configs.items():
                times[name].append(_pass(trainer, rows_of[name][i], trl_loss, attention))
    tokens = statistics.mean(int(b["input_ids"].numel()) for b in batches[1:])
    shared_tokens = statistics.mean(int(b["input_ids"].numel()) for b in shared_batches[1:])
    first = statistics.median(times[LEVERS[0]])
    results = {
        name: {"median_s": statistics.median(ts), "min_s": min(ts), "max_s": max(ts),
               "speedup_vs_first": first / statistics.median(ts), "passes": len(ts)}
        for name, ts in times.items()
    }  # fmt: skip
    rows = [
        [name, r["median_s"], r["min_s"], r["max_s"], f"{r['speedup_vs_first']:.2f}x"] for name, r in results.items()
    ]
    print(table(["configuration (cumulative)", "median s / row", "min", "max", "speed-up"], rows))
    print(f"{args.rows} packed rows of ~{tokens:.0f} tokens (~{shared_tokens:.0f} with the prefix shared), "
          f"{args.repeats} repeats each, fp32; CPU: {cpu_name()}; "
          f"native bf16: {cpu_supports_bf16()}")  # fmt: skip
    payload = {"levers": results, "tokens_per_row": tokens, "tokens_per_shared_row": shared_tokens,
               "settings": vars(args)}  # fmt: skip
    print(f"wrote {save('train_levers', payload)}")


if __name__ == "__main__":
    main()
