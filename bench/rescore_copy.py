"""Score a finished run's stored answers again with the metrics as they are now, without generating anything:
after a metric changes (a stricter claim check), the figures of a run already reported can be restated from the
same answers. The pack's fitted state (lexicons, style) is fitted again on the run's training split and its metric
models (the brand-voice classifier) on the base-model answers the run stored for them.

python -m bench.rescore_copy RUN_DIR [--tag NAME]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common import save, table
from core.loaded_run import load_run_pack
from core.run_folder import RunFolder

SHOWN = ("hallucination_rate", "unsupported_claims_per_output", "publishable_rate", "brand_voice", "attribute_coverage")


def rescore(run_dir: Path) -> dict[str, dict[str, float]]:
    folder = RunFolder.open(run_dir)
    pack = load_run_pack(folder)
    train, test = folder.load_split("train"), folder.load_split("test")
    pack.fit(train)
    pack.load_state(folder.load_pack_state())  # the run's own lexicons and style win where it stored them
    base_path = folder.predictions_path("base_on_train")
    if base_path.is_file():
        shown = [json.loads(line) for line in base_path.read_text().splitlines() if line.strip()]
        train_by_id = {ex.id: ex for ex in train}
        pack.fit_metrics([train_by_id[r["id"]] for r in shown], [r["raw"] for r in shown])  # the run's order
    by_id = {ex.id: ex for ex in test}
    scores: dict[str, dict[str, float]] = {}
    for path in sorted(folder.predictions_dir.glob("*.jsonl")):
        if path.stem == "base_on_train":
            continue
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        refs = [by_id[r["id"]].reference for r in rows]
        scores[path.stem] = pack.metrics([r.get("parsed") for r in rows], refs)
    return scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--tag", default=None, help="suffix of the results file name")
    args = ap.parse_args()
    results = json.loads(RunFolder.open(args.run_dir).results_path.read_text())
    before = {name: s for name, s in results.get("systems", {}).items()}
    now = rescore(args.run_dir)
    rows = []
    for name, s in now.items():
        old = before.get(name, {})
        rows.append([name, *[f"{old.get(k, float('nan')):.3f} -> {s.get(k, float('nan')):.3f}" for k in SHOWN]])
    print(table(["system", *SHOWN], rows))
    name = "rescore_copy" + (f"_{args.tag}" if args.tag else "")
    print(f"wrote {save(name, {'run_dir': str(args.run_dir), 'before': before, 'now': now})}")


if __name__ == "__main__":
    main()
