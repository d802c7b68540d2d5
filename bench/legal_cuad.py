"""Legal pack on the full CUAD master_clauses.csv with the default model on this machine: every system (base model
zero-/few-shot, fine-tuned, each free / constrained / label-scored; classical; the fine-tuned model pooled with the
classical one, its weight chosen on dev; nearest) on clauses from contracts never seen in training, with 95%
paired-bootstrap intervals and the verdict. Training gets the issue's 30 minutes (--train-minutes; the step count
that fits is measured before the first step, core/train_budget.py).

The 10 most frequent clause categories (one-line definitions from the bundled label file), split by contract,
all training clauses by default, compact adapter prompt, label scoring. Levers (--prompt, --retrieval-k,
--epochs) are chosen on the dev split: `--choose` trains each candidate, scores it on dev, and scores the test split
once, for the winner only.

python -m bench.legal_cuad [--train 0] [--test 300] [--epochs 1] [--prompt compact] [--retrieval-k 0]
    [--train-minutes 30]
python -m bench.legal_cuad --choose 'prompt=compact,retrieval_k=0;prompt=compact,retrieval_k=3'
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import SHARED, result_rows, run_payload, save, score_on_dev, table
from core.config import build_config
from core.pack import get_pack
from core.pipeline import train_and_evaluate
from core.run_folder import RunFolder

CUAD = SHARED / "legal" / "cuad" / "master_clauses.csv"
LABELS = Path(__file__).parents[1] / "verticals" / "legal" / "data" / "cuad_sample_labels.json"


def config(args: argparse.Namespace, lever: dict[str, Any]) -> Any:
    options: dict[str, Any] = {"cuad_top_k": args.categories}
    if args.categories == 10:
        options["labels_file"] = str(LABELS)  # the same 10 categories, with one-line definitions
    pack = get_pack("legal", options)
    return build_config(
        pack_defaults=pack.default_config(),
        overrides={
            "pack": "legal",
            "data": str(CUAD),
            "pack_options": options,
            "max_length": args.max_length,
            "epochs": args.epochs,
            "learning_rate": args.learning_rate,
            "max_train_examples": args.train or None,
            "max_dev_examples": args.dev,
            "max_eval_examples": args.test,
            "time_budget_minutes": args.budget,
            "max_minutes": args.train_minutes or None,
            "eval_steps": 200,
            "save_steps": 200,
            "output_dir": args.output_dir,
            "systems": ["zero_shot", "few_shot", "tuned", "classical", "tuned+classical", "nearest"],
            **lever,
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=0, help="training clauses (0 = all)")
    ap.add_argument("--test", type=int, default=300)
    ap.add_argument("--dev", type=int, default=200)
    ap.add_argument("--categories", type=int, default=10)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--learning-rate", type=float, default=4e-4)
    ap.add_argument("--max-length", type=int, default=384)
    ap.add_argument("--prompt", default="compact", choices=["full", "compact"])
    ap.add_argument("--retrieval-k", type=int, default=0)
    ap.add_argument("--budget", type=float, default=60.0, help="evaluation time budget, minutes")
    ap.add_argument(
        "--train-minutes", type=float, default=30.0, help="training time budget, minutes (issue 24's; 0 = none)"
    )
    ap.add_argument("--choose", default=None, help="candidate levers 'k=v,k=v;k=v' scored on dev first")
    ap.add_argument("--output-dir", default="runs/bench")
    args = ap.parse_args()
    if not CUAD.is_file():
        raise SystemExit(f"CUAD not found at {CUAD}")
    started = time.time()
    default = {"prompt": args.prompt, "retrieval_k": args.retrieval_k}
    candidates = [dict(kv.split("=") for kv in c.split(",")) for c in args.choose.split(";")] if args.choose else []
    dev_scores: list[dict[str, Any]] = []
    if candidates:
        best_run, best = None, -1.0
        for lever in candidates:
            lever = {k: (int(v) if v.isdigit() else v) for k, v in lever.items()}
            cfg = config(args, {**default, **lever})
            run = train_and_evaluate("legal", cfg, name=f"cuad-dev-{time.strftime('%Y%m%d-%H%M%S')}", evaluate=False)
            scores = score_on_dev(run, ["tuned+scored"])
            dev_scores.append({"lever": lever, "run_dir": str(run), "dev": scores})
            print(f"dev macro-F1 {scores} for {lever}", flush=True)
            if scores["tuned+scored"] > best:
                best_run, best = run, scores["tuned+scored"]
        from core.evaluation import evaluate_run
        from core.report import write_report

        run_dir = best_run
        evaluate_run(run_dir)
        write_report(run_dir)
    else:
        run_dir = train_and_evaluate("legal", config(args, default), name=f"cuad-{time.strftime('%Y%m%d-%H%M%S')}")
    results = RunFolder(run_dir).read_results().model_dump(mode="json")
    print(table(["system", "macro-F1 [95% CI]", "parse rate", "examples/s"], result_rows(results, "macro_f1")))
    training, data = results["training"], results["data"]
    print(
        f"training: {training['train_runtime_s']} s, {training['global_step']} steps, "
        f"{training['train_tokens']['examples']} examples, {training['tokens_per_second']} tokens/s "
        f"({training['precision']})"
    )
    print(f"data: {data['splits']} (contracts {data['groups']}); scored: {results['evaluation']['examples']}")
    print(f"verdict: {results['verdict']['sentence']}")
    payload = run_payload(run_dir, results, args, started, dev_choice=dev_scores)
    print(f"wrote {save('legal_cuad', payload)}")


if __name__ == "__main__":
    main()
