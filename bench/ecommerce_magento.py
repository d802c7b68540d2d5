"""E-commerce pack on the Magento "Luma" catalogue with the default model on this machine: nearest training
product, zero-shot, few-shot (3 retrieved products) and fine-tuned, each free and grounded (`+grounded`), scored on
held-out products (split by product; variants folded into their parent; products sharing a description share a
split) with the publishable rate (headline, 95% paired-bootstrap interval) and its parts. Prints the metric table,
the verdict and three generated examples per system.

python -m bench.ecommerce_magento [--epochs 2] [-O training_copy=supported] [--set k=v]
python -m bench.ecommerce_magento --reuse runs/bench/magento-...   # score an earlier run again (no training)
python -m bench.ecommerce_magento --train-only                     # train now, score later with --reuse

A second shop through the user-column path (a CSV written by bench.import_magento1, a style file written for it):
python -m bench.ecommerce_magento --data demo_store.csv -O style_file=bench/styles/magento1_demo_store.yaml \
    -O attribute_columns=name,category,... --tag demo_store
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.common import SHARED, reevaluate, result_rows, run_settings, save, table
from core.config import build_config, merge_overrides, parse_overrides
from core.pack import get_pack
from core.pipeline import train_and_evaluate
from core.run_folder import RunFolder

MAGENTO = SHARED / "ecommerce" / "magento"
COLUMNS = (
    "brand_voice", "hallucination_rate", "length_ok", "repeated_line_rate", "attribute_coverage",
    "required_attribute_coverage", "rougeL",
)  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=float, default=2.0)
    ap.add_argument("--output-dir", default="runs/bench")
    ap.add_argument("--reuse", type=Path, help="an earlier run of this benchmark: evaluate it again, no training")
    ap.add_argument("--data", type=Path, default=MAGENTO, help="catalogue (default: the Magento Luma fixtures)")
    ap.add_argument("-O", dest="options", action="append", default=[], help="pack option key=value")
    ap.add_argument("--set", dest="sets", action="append", default=[], help="config override key=value")
    ap.add_argument("--tag", default="", help="suffix of the result file (bench/results/ecommerce_magento_TAG.json)")
    ap.add_argument(
        "--train-only",
        action="store_true",
        help="train the adapter and stop, held-out products unread (score: --reuse)",
    )
    args = ap.parse_args()
    pack = get_pack("ecommerce")
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides=merge_overrides(
            {
                "pack": "ecommerce",
                "data": str(args.data),
                "epochs": args.epochs,
                "max_eval_examples": 60,
                "eval_batch_size": 8,
                "output_dir": args.output_dir,
            },
            parse_overrides(args.sets),
            {"pack_options": parse_overrides(args.options)},
        ),
    )
    started = time.time()
    run_dir = (
        reevaluate(args.reuse)
        if args.reuse
        else train_and_evaluate(
            "ecommerce",
            cfg,
            name=f"{args.tag or 'magento'}-{time.strftime('%Y%m%d-%H%M%S')}",
            evaluate=not args.train_only,
        )
    )
    if args.train_only:
        print(f"trained {run_dir}; score it with --reuse {run_dir}")
        return
    folder = RunFolder(run_dir)
    results = folder.read_results().model_dump(mode="json")
    systems = results["systems"]
    rows = result_rows(results, "publishable_rate")
    print(table(["system", "publishable [95% CI]", *COLUMNS], [[r[0], r[1], *(systems[r[0]].get(c) for c in COLUMNS)]
                                                               for r in rows]))  # fmt: skip
    print(f"brand-voice classifier: {results.get('metric_models')}")
    print(f"verdict: {results['verdict']['sentence']}")
    examples: dict[str, list[dict[str, str]]] = {}
    for name in systems:
        rows = folder.read_predictions(name)
        examples[name] = [{"id": r["id"], "output": r["raw"]} for r in rows[:3]]
        for r in rows[:3]:
            print(f"--- {name} / {r['id']}\n{r['raw']}\n")
    training = results["training"]
    untuned = [s["publishable_rate"] for n, s in systems.items() if not n.startswith("tuned")]
    best_tuned = max((n for n in systems if n.startswith("tuned")), key=lambda n: systems[n]["publishable_rate"])
    gain = systems[best_tuned]["publishable_rate"] - max(untuned)
    print(
        f"training: {training['train_runtime_s']} s, {training['global_step']} steps"
        f"; splits {results['data']['splits']}"
    )
    print(f"best fine-tuned ({best_tuned}) publishable rate minus the best system without fine-tuning: {gain:+.3f}")
    payload = {
        "run_dir": str(run_dir),
        "systems": systems,
        "metric_models": results.get("metric_models"),
        "examples": examples,
        "training": training,
        "data": results["data"],
        "verdict": results["verdict"],
        "best_tuned": best_tuned,
        "publishable_gain_over_best_untuned": gain,
        "wall_s": time.time() - started,
        "evaluated_at": results.get("evaluated_at"),
        "settings": run_settings(args, run_dir),
    }
    print(f"wrote {save('ecommerce_magento' + (f'_{args.tag}' if args.tag else ''), payload)}")


if __name__ == "__main__":
    main()
