"""Rebuild the bundled sample from ../shared/data: ACI-Bench dialogues and MTS-Dialog snippets (CC, MEDICATIONS,
ALLERGY) in the pack's own JSONL format {id, group, source, text, target}. The text is NOT scrubbed: the sample
shows the scrubbing step that `vft train clinical` runs before training.

python -m verticals.clinical.make_sample [--aci 20] [--mts 140]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from core.io import write_jsonl
from verticals.clinical import importers

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "clinical"
OUT = Path(__file__).parent / "data" / "clinical_sample.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aci", type=int, default=20)
    ap.add_argument("--mts", type=int, default=140)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    aci, _ = importers.load_aci(SHARED / "aci_bench" / "train.csv")
    mts, _ = importers.load_mts(SHARED / "mts_dialog" / "MTS-Dialog-TrainingSet.csv")
    rows = [{**r, "source": "aci-bench"} for r in rng.sample(aci, args.aci)]
    rows += [{**r, "source": "mts-dialog"} for r in rng.sample(mts, args.mts)]
    rng.shuffle(rows)
    out = [
        {"id": r["id"], "group": r["group"], "source": r["source"], "text": r["text"], "target": r["form"]}
        for r in rows
    ]
    write_jsonl(OUT, out)
    print(f"wrote {len(out)} records to {OUT}")


if __name__ == "__main__":
    main()
