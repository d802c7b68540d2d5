"""A user's own, heavily imbalanced label set through the classification (legal) pack's user-column path: MTS-Dialog
section texts labelled with their section header (20 headers; the largest covers 29% of training rows, nine have
fewer than 20). This is what a firm with its own labelled file does: `-O text_column=... -O label_column=...`, no
label definitions, the data's own split column. Every system, macro-F1 with a 95% interval, per-class F1, verdict.

Data: MTS-Dialog (Ben Abacha et al., 2023; CC BY 4.0) from the shared data folder: the training set is split into
train (+ dev from its validation file); TestSet-1 (MEDIQA-Chat 2023) is the held-out set, scored once per run.

python -m bench.user_labels_mts [--train 600] [--test 200] [--epochs 1]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import SHARED, result_rows, run_payload, save, table
from core.config import build_config
from core.io import write_jsonl
from core.pack import get_pack
from core.pipeline import train_and_evaluate
from core.run_folder import RunFolder

MTS = SHARED / "clinical" / "mts_dialog"
FILES = {
    "train": "MTS-Dialog-TrainingSet.csv",
    "validation": "MTS-Dialog-ValidationSet.csv",
    "test": "MTS-Dialog-TestSet-1-MEDIQA-Chat-2023.csv",
}


def user_file(folder: Path) -> tuple[Path, dict[str, Counter]]:
    """One JSONL with the user's columns and a split column, as a user would export it."""
    rows: list[dict[str, Any]] = []
    counts: dict[str, Counter] = {}
    for split, name in FILES.items():
        with (MTS / name).open(encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
        counts[split] = Counter(r["section_header"] for r in records)
        rows += [
            {"id": f"{split}-{r['ID']}", "section": r["section_text"], "header": r["section_header"], "split": split}
            for r in records
        ]
    path = folder / "mts_sections.jsonl"
    write_jsonl(path, rows)
    return path, counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=int, default=600, help="training rows (0 = all 1,201)")
    ap.add_argument("--test", type=int, default=200)
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--budget", type=float, default=25.0, help="evaluation time budget, minutes")
    ap.add_argument("--output-dir", default="runs/bench")
    args = ap.parse_args()
    if not MTS.is_dir():
        raise SystemExit(f"MTS-Dialog not found at {MTS}")
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="vft-mts-") as tmp:
        data, counts = user_file(Path(tmp))
        options = {"text_column": "section", "label_column": "header"}
        pack = get_pack("legal", options)
        cfg = build_config(
            pack_defaults=pack.default_config(),
            overrides={
                "pack": "legal",
                "data": str(data),
                "pack_options": options,
                "epochs": args.epochs,
                "max_train_examples": args.train or None,
                "max_eval_examples": args.test,
                "time_budget_minutes": args.budget,
                "eval_steps": 100,
                "save_steps": 100,
                "output_dir": args.output_dir,
                "systems": ["zero_shot", "few_shot", "tuned", "classical", "nearest"],
                "constrained": False,
            },
        )
        run_dir = train_and_evaluate("legal", cfg, name=f"mts-labels-{time.strftime('%Y%m%d-%H%M%S')}")
    results = RunFolder(run_dir).read_results().model_dump(mode="json")
    print(table(["system", "macro-F1 [95% CI]", "parse rate", "examples/s"], result_rows(results, "macro_f1")))
    best_tuned = max((n for n in results["systems"] if n.startswith("tuned")),
                     key=lambda n: results["systems"][n]["headline"])  # fmt: skip
    per_class = results["systems"][best_tuned].get("per_class", {})
    classical = results["systems"].get("classical", {}).get("per_class", {})
    rows = [
        [label, counts["train"][label], v.get("support"), v.get("f1"), classical.get(label, {}).get("f1")]
        for label, v in sorted(per_class.items(), key=lambda kv: -counts["train"][kv[0]])
    ]
    print(table(["header", "train rows (all)", "held-out", f"F1 {best_tuned}", "F1 classical"], rows))
    print(f"verdict: {results['verdict']['sentence']}")
    label_counts = {k: dict(v) for k, v in counts.items()}
    payload = run_payload(run_dir, results, args, started, label_counts=label_counts, best_tuned=best_tuned)
    print(f"wrote {save('user_labels_mts', payload)}")


if __name__ == "__main__":
    main()
