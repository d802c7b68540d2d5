"""E-commerce pack on the Magento "Luma" catalogue with the default model on this machine: zero-shot, few-shot
(3 retrieved products) and fine-tuned, scored on held-out products (split by product; variants folded into their
parent; products sharing a description share a split). Prints the metric table and three generated examples per
system.

python -m bench.ecommerce_magento [--epochs 2]
python -m bench.ecommerce_magento --reuse runs/bench/magento-...   # score an earlier run again (no training)
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import SHARED, reevaluate, run_settings, save, table
from core.config import build_config
from core.pack import get_pack
from core.pipeline import train_and_evaluate
from core.run_folder import RunFolder

MAGENTO = SHARED / "ecommerce" / "magento"
COLUMNS = (
    "brand_voice", "rougeL", "rouge1", "rouge2", "attribute_coverage", "hallucination_rate", "no_banned_words",
    "length_ok", "required_mentions",
)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--output-dir", default="runs/bench")
    ap.add_argument("--reuse", type=Path, help="an earlier run of this benchmark: evaluate it again, no training")
    args = ap.parse_args()
    pack = get_pack("ecommerce")
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={
            "pack": "ecommerce",
            "data": str(MAGENTO),
            "epochs": args.epochs,
            "max_eval_examples": 60,
            "eval_batch_size": 8,
            "output_dir": args.output_dir,
        },
    )
    started = time.time()
    run_dir = (
        reevaluate(args.reuse)
        if args.reuse
        else train_and_evaluate("ecommerce", cfg, name=f"magento-{time.strftime('%Y%m%d-%H%M%S')}")
    )
    folder = RunFolder(run_dir)
    results = folder.read_results().model_dump(mode="json")
    systems = results["systems"]
    print(table(["system", *COLUMNS], [[n, *(s.get(c) for c in COLUMNS)] for n, s in systems.items()]))
    print(f"brand-voice classifier: {results.get('metric_models')}")
    examples: dict[str, list[dict[str, str]]] = {}
    for name in systems:
        rows = folder.read_predictions(name)
        examples[name] = [{"id": r["id"], "output": r["raw"]} for r in rows[:3]]
        for r in rows[:3]:
            print(f"--- {name} / {r['id']}\n{r['raw']}\n")
    training = results["training"]
    prompted = [s["brand_voice"] for n, s in systems.items() if not n.startswith("tuned")]
    gain = systems["tuned"]["brand_voice"] - max(prompted)
    print(
        f"training: {training['train_runtime_s']} s, {training['global_step']} steps"
        f"; splits {results['data']['splits']}"
    )
    print(f"fine-tuned brand voice minus best prompted baseline: {gain:+.3f}")
    payload = {
        "run_dir": str(run_dir),
        "systems": systems,
        "metric_models": results.get("metric_models"),
        "examples": examples,
        "training": training,
        "data": results["data"],
        "gain_over_best_prompted": gain,
        "wall_s": time.time() - started,
        "evaluated_at": results.get("evaluated_at"),
        "settings": run_settings(args, run_dir),
    }
    print(f"wrote {save('ecommerce_magento', payload)}")


if __name__ == "__main__":
    main()
