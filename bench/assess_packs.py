"""`vft assess` as a user runs it, on each pack's bundled sample and on CUAD: the "evaluate necessity" step before
any training. Prints, per data set, how many held-out examples were scored, the best system without fine-tuning
with its interval, the decision, the estimated training time on this machine, and the wall time of the assessment.

python -m bench.assess_packs [--only legal,clinical,ecommerce,cuad] [--cuad-budget 10] [--target 0.9]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import SHARED, save, table
from core.run_folder import RunFolder

CUAD = SHARED / "legal" / "cuad" / "master_clauses.csv"


def cases(args: argparse.Namespace) -> dict[str, list[str]]:
    """name -> the `vft assess` arguments. The bundled samples as `vft assess PACK` takes them; CUAD as it comes
    (ten most frequent categories), with an evaluation time budget so its large held-out split is sampled."""
    return {
        "legal": ["legal"],
        "clinical": ["clinical"],
        "ecommerce": ["ecommerce"],
        "cuad": ["legal", "--data", str(CUAD), "-O", "cuad_top_k=10",
                 "--set", f"evaluation.time_budget_minutes={args.cuad_budget:g}"],
    }  # fmt: skip


def run_case(arguments: list[str], args: argparse.Namespace, name: str) -> dict[str, Any]:
    """One `vft assess` as a user runs it (the CLI builds the scrubber the clinical pack needs)."""
    run_name = f"assess-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [sys.executable, "-m", "core.cli", "assess", *arguments, "--output-dir", args.output_dir,
               "--name", run_name, "--target", str(args.target)]  # fmt: skip
    started = time.time()
    subprocess.run(command, check=True)
    wall = time.time() - started
    run = Path(args.output_dir) / run_name
    results = RunFolder(run).read_results().model_dump(mode="json")
    verdict, systems = results["assessment"], results["systems"]
    best = systems[verdict["best_without_fine_tuning"]]
    return {
        "run_dir": str(run),
        "command": ["vft", *command[3:]],
        "splits": results["data"]["splits"],
        "scored": results["evaluation"]["examples"],
        "headline_metric": results["headline_metric"],
        "systems": {n: {"headline": s["headline"], "interval": s.get("interval")} for n, s in systems.items()},
        "best": verdict["best_without_fine_tuning"],
        "best_interval": best.get("interval"),
        "decision": verdict["decision"],
        "sentence": verdict["sentence"],
        "training_estimate": verdict["training_estimate"],
        "wall_s": round(wall, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="legal,clinical,ecommerce,cuad")
    ap.add_argument("--cuad-budget", type=float, default=10.0, help="CUAD evaluation time budget, minutes")
    ap.add_argument("--target", type=float, default=0.9)
    ap.add_argument("--output-dir", default="runs/bench")
    args = ap.parse_args()
    chosen = cases(args)
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(chosen)
    if unknown:
        raise SystemExit(f"unknown case(s) {sorted(unknown)}; choose from {sorted(chosen)}")
    if "cuad" in names and not CUAD.is_file():
        raise SystemExit(f"CUAD not found at {CUAD}")
    outcomes = {}
    for name in names:
        outcomes[name] = run_case(chosen[name], args, name)
        print(f"{name}: {outcomes[name]['sentence']}", flush=True)
    rows = []
    for name, o in outcomes.items():
        i = o["best_interval"] or {}
        rows.append(
            [
                name,
                f"{o['scored']} of {o['splits']['test']}",
                f"{o['best']} {i.get('estimate', 0):.3f} [{i.get('low', 0):.3f}, {i.get('high', 0):.3f}]",
                o["decision"],
                o["training_estimate"]["estimated_training_minutes"],
                o["wall_s"],
            ]
        )
    headers = ["data", "held-out scored", "best without fine-tuning", "decision", "est. training min", "wall s"]
    print(table(headers, rows))
    print(f"wrote {save('assess_packs', {'cases': outcomes, 'settings': vars(args)})}")


if __name__ == "__main__":
    main()
