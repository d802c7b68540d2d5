"""Build the bundled CUAD sample (run once by maintainers; the output is committed).

python -m verticals.legal.make_sample ../shared/data/legal/cuad -o verticals/legal/data
Picks the 10 most frequent clause categories, single-category clauses of 60-450 characters, at most
PER_CLASS per category, chosen with a fixed seed. Whole contracts are kept together.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from verticals.legal.importers import category_definitions, load_cuad

PER_CLASS = 30
MAX_CHARS = 450
# One-line definitions kept short on purpose: the system prompt is part of every training example.
SHORT_DEFINITIONS = {
    "Anti-Assignment": "consent or notice needed before a party may assign the contract",
    "Audit Rights": "a right to audit the other party's books, records or premises",
    "Cap on Liability": "a limit on damages or on the time to bring claims",
    "Expiration Date": "when the initial term of the contract ends",
    "Governing Law": "which jurisdiction's law governs the contract",
    "Insurance": "insurance one party must maintain",
    "License Grant": "a licence granted by one party to the other",
    "Minimum Commitment": "a minimum amount or volume that must be bought",
    "Post-Termination Services": "obligations that continue after termination or expiry",
    "Revenue/Profit Sharing": "sharing of revenue, profit or royalties",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cuad_dir", type=Path)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    loaded = load_cuad(args.cuad_dir / "master_clauses.csv", top_k=10, multi_category="drop")
    by_cat = defaultdict(list)
    for ex in loaded.examples:
        if 60 <= len(ex.text) <= MAX_CHARS:
            by_cat[ex.reference].append(ex)
    rng = random.Random(13)
    rows = []
    for cat in sorted(by_cat):
        for ex in rng.sample(by_cat[cat], min(PER_CLASS, len(by_cat[cat]))):
            rows.append({"id": f"cuad-{len(rows):04d}", "contract": ex.group, "text": ex.text, "label": cat})
    rng.shuffle(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "cuad_sample.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    defs = category_definitions(args.cuad_dir / "category_descriptions.csv")
    labels = {c: SHORT_DEFINITIONS.get(c, defs.get(c, "")) for c in sorted(by_cat)}
    (args.out / "cuad_sample_labels.json").write_text(json.dumps(labels, indent=2) + "\n", encoding="utf-8")
    print(f"{len(rows)} clauses over {len(labels)} categories")


if __name__ == "__main__":
    main()
