"""Redaction quality: span-level precision / recall / F2 per entity type on (a) the synthetic clinical set and
(b) presidio-research's generated_small.json, for the spaCy+patterns detector and the regex-only fallback.

python -m bench.redact_recall
"""

from __future__ import annotations

from pathlib import Path

from bench.common import SHARED, save, table
from redaction.evaluate import evaluate_file

SYNTHETIC = Path(__file__).parents[1] / "redaction" / "data" / "synthetic_clinical_pii.jsonl"
PRESIDIO = SHARED / "pii" / "presidio_research" / "generated_small.json"


def main() -> None:
    runs = {}
    for name, path in (("synthetic_clinical", SYNTHETIC), ("presidio_research_small", PRESIDIO)):
        if not path.is_file():
            print(f"skipping {name}: {path} not found")
            continue
        for mode in ("spacy", "regex"):
            result = evaluate_file(path, mode=mode)
            runs[f"{name}/{mode}"] = result
            rows = [
                [lab, b["support"], b["detected"], b["precision"], b["recall"], b["f2"]]
                for lab, b in result["per_entity"].items()
            ]
            for key in ("direct_identifiers", "overall"):
                b = result[key]
                rows.append([key, b["support"], b["detected"], b["precision"], b["recall"], b["f2"]])
            print(f"\n{name} ({mode}, {result['documents']} documents)")
            print(table(["entity", "support", "detected", "precision", "recall", "F2"], rows))
    print(f"\nwrote {save('redact_recall', {'runs': runs})}")


if __name__ == "__main__":
    main()
