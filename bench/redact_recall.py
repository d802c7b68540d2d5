"""Redaction quality where it is hard, through the real `vft redact` path (redaction.scrub.scrub_records): span
precision / recall / F2, token-level recall of direct identifiers and the verbatim leak rate, per entity, on
frozen held-out parts of sets the recognizers were not written with, in the default and high-recall modes, beside
the strongest simple alternative: Presidio with its defaults (`presidio_defaults`, redaction/baseline.py).

Sets (each with a dev part for tuning and a held-out part for reporting, frozen before any recognizer change):
- generated: presidio-evaluator's public templates filled by redaction.multilocale in eight locales; the held-out
  part (templates frozen by hash, seed 17) is committed as redaction/data/generated_heldout.jsonl.
- presidio_research_small: presidio-research's generated_small.json as it is (split by document hash).
- physionet_deid: PhysioNet deid 1.1 nursing notes, split by patient (--physionet-deid DIR; GPL, not in the repo).
- synthetic_clinical: this project's own templates (in-distribution; shown for contrast).
- ACI-Bench: every metadata patient name must be gone from the scrubbed dialogues.

python -m bench.redact_recall [--physionet-deid DIR] [--part held_out|dev|all]
    [--modes default,high_recall,presidio_defaults]
python -m bench.redact_recall --markdown bench/results/redact_recall.json   # README tables of a saved scoring
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from bench.common import SHARED, save, table
from redaction.engine import Span
from redaction.entities import DIRECT
from redaction.evaluate import evaluate_documents, read_gold

DATA = Path(__file__).parents[1] / "redaction" / "data"
TEMPLATES = SHARED / "pii" / "presidio_evaluator_templates" / "templates.txt"
PRESIDIO = SHARED / "pii" / "presidio_research" / "generated_small.json"
ACI = SHARED / "clinical" / "aci_bench"
BASELINE = "presidio_defaults"
GENERATED_HELD_OUT = DATA / "generated_heldout.jsonl"
DEV_SEED, HELD_OUT_SEED, SET_SIZE = 13, 17, 1500


def _docs(rows: list[dict[str, Any]]) -> list[tuple[str, list[Span]]]:
    return [(r["text"], [Span(s["start"], s["end"], s["label"]) for s in r["spans"]]) for r in rows]


def _hash_split(key: str, share: float = 0.3) -> str:
    digest = hashlib.sha256(key.encode()).digest()
    return "held_out" if int.from_bytes(digest[:8], "big") / 2**64 < share else "dev"


def generated(
    part: str, dev_seed: int = DEV_SEED, dev_size: int = SET_SIZE, address_style: str = "faker"
) -> list[tuple[str, list[Span]]]:
    """The generated set's part. Another `dev_seed` draws a fresh dev sample (dev templates, new values), and
    another `address_style` ("composed", "mixed": redaction.multilocale.generate) one whose addresses have another
    shape: a rule chosen on one sample can be checked on others without touching the frozen held-out part."""
    from redaction.multilocale import generate, read_templates

    if part == "held_out":
        return _docs([json.loads(line) for line in GENERATED_HELD_OUT.read_text(encoding="utf-8").splitlines()])
    rows = list(generate(read_templates(TEMPLATES), dev_size, seed=dev_seed, split="dev", address_style=address_style))
    if part == "all":
        rows += [json.loads(line) for line in GENERATED_HELD_OUT.read_text(encoding="utf-8").splitlines()]
    return _docs(rows)


def presidio_small(part: str) -> list[tuple[str, list[Span]]]:
    docs = read_gold(PRESIDIO)
    return [d for d in docs if part == "all" or _hash_split(d[0]) == part]


def physionet(folder: Path, part: str) -> list[tuple[str, list[Span]]]:
    from redaction.physionet import read_deid_corpus

    return _docs([r for r in read_deid_corpus(folder) if part == "all" or r["split"] == part])


def synthetic(part: str) -> list[tuple[str, list[Span]]]:
    docs = read_gold(DATA / "synthetic_clinical_pii.jsonl")
    return [d for d in docs if part == "all" or _hash_split(d[0]) == part]


def aci_names(mode: str) -> dict[str, Any]:
    """Every patient name in the ACI-Bench metadata, searched in the scrubbed dialogues of its own encounter."""
    import csv
    import re

    from redaction.scrub import scrub_records

    rows, names = [], []
    for split in ("train", "valid"):
        meta = {r["encounter_id"]: r for r in csv.DictReader((ACI / f"{split}_metadata.csv").open(encoding="utf-8"))}
        for r in csv.DictReader((ACI / f"{split}.csv").open(encoding="utf-8")):
            m = meta.get(r["encounter_id"], {})
            rows.append({"text": r["dialogue"]})
            names.append([n for n in (m.get("patient_firstname"), m.get("patient_familyname")) if n])
    out = scrub_records(rows, ["text"], operator="tag", mode="spacy", **_mode_kwargs(mode))
    mentions = left = 0
    for rec, original, who in zip(out.records, rows, names, strict=True):
        for name in who:
            pattern = rf"(?<!\w){re.escape(name.lower())}(?!\w)"
            mentions += len(re.findall(pattern, original["text"].lower()))
            left += len(re.findall(pattern, rec["text"].lower()))
    return {"dialogues": len(rows), "name_mentions": mentions, "left_in_output": left}


def _mode_kwargs(mode: str) -> dict[str, Any]:
    """`presidio_defaults` is the baseline (Presidio as it comes, redaction/baseline.py), the rest recall modes."""
    if mode == BASELINE:
        from redaction.baseline import PresidioDefaultsDetector

        return {"detector": PresidioDefaultsDetector()}
    return {"recall_mode": mode} if mode != "default" else {}


def per_entity_markdown(runs: dict[str, Any], modes: tuple[str, ...] = ("default", "high_recall")) -> str:
    """The README's per-entity tables of a saved scoring: for each set, token recall (leak rate) per entity in each
    mode, entities in the order the first mode lists them. Read from the result file, so printing them is no new
    look at the held-out parts."""
    sets = list(dict.fromkeys(key.split("/")[0] for key in runs if not key.startswith("aci_bench")))
    parts = []
    for name in sets:
        scored = [m for m in modes if f"{name}/{m}" in runs]
        if not scored:
            continue
        first = runs[f"{name}/{scored[0]}"]["token_recall"]
        rows = ["| entity | tokens | " + " | ".join(m.replace("_", "-") for m in scored) + " |",
                "|---|---|" + "---|" * len(scored)]  # fmt: skip
        for label in [k for k in first if k != "direct_identifiers"] + ["direct_identifiers"]:
            cells = []
            for mode in scored:
                run = runs[f"{name}/{mode}"]
                recall = run["token_recall"].get(label, {}).get("recall")
                leak = run["leak"].get(label, {})
                shown = "-" if recall is None else f"{recall:.3f}"
                if leak.get("values"):
                    shown += f" ({leak['rate']:.1%}, {leak['leaked']}/{leak['values']})"
                cells.append(shown)
            title = {"direct_identifiers": "**all direct identifiers**"}.get(label, label)
            if label != "direct_identifiers" and label not in DIRECT:
                title += " (not a direct identifier: outside the total)"
            rows.append(f"| {title} | {first[label]['tokens']} | " + " | ".join(cells) + " |")
        parts.append(f"Per entity, {name}: token recall (leak rate, leaked/values)\n\n" + "\n".join(rows))
    return "\n\n".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--markdown", type=Path, help="print the per-entity tables of a saved result file and stop")
    ap.add_argument("--physionet-deid", type=Path, default=os.environ.get("VFT_PHYSIONET_DEID"))
    ap.add_argument("--part", choices=["held_out", "dev", "all"], default="held_out")
    ap.add_argument("--modes", default=f"default,high_recall,{BASELINE}", help=f"recall modes and/or {BASELINE}")
    ap.add_argument("--sets", default="generated,presidio_research_small,physionet_deid,synthetic_clinical")
    ap.add_argument("--name", default="redact_recall", help="result file name (bench/results/NAME.json)")
    ap.add_argument("--dev-seed", type=int, default=DEV_SEED, help="seed of the generated dev sample (fresh draws)")
    ap.add_argument("--dev-size", type=int, default=SET_SIZE, help="documents in the generated dev sample")
    ap.add_argument("--dev-address-style", choices=["faker", "composed", "mixed"], default="faker")
    args = ap.parse_args()
    drawn = (args.dev_seed, args.dev_size, args.dev_address_style) != (DEV_SEED, SET_SIZE, "faker")
    if args.part == "held_out" and drawn:
        ap.error("--dev-seed, --dev-size and --dev-address-style draw dev samples; use them with --part dev")
    if args.markdown:
        print(per_entity_markdown(json.loads(args.markdown.read_text())["runs"]))
        return
    sets: dict[str, Any] = {
        "generated": lambda: generated(args.part, args.dev_seed, args.dev_size, args.dev_address_style),
        "presidio_research_small": lambda: presidio_small(args.part),
        "synthetic_clinical": lambda: synthetic(args.part),
    }
    if args.physionet_deid:
        sets["physionet_deid"] = lambda: physionet(Path(args.physionet_deid), args.part)
    runs: dict[str, Any] = {}
    summary = []
    for mode in args.modes.split(","):
        for name in args.sets.split(","):
            if name not in sets:
                print(f"skipping {name} (no data; physionet_deid needs --physionet-deid DIR)")
                continue
            docs = sets[name]()
            result = evaluate_documents(docs, mode="spacy", **_mode_kwargs(mode))
            runs[f"{name}/{mode}"] = result
            tr, lk, d = result["token_recall"], result["leak"], result["direct_identifiers"]
            rows = []
            for lab, b in result["per_entity"].items():
                t = tr.get(lab, {})
                rows.append([lab, b["support"], b["detected"], b["precision"], b["recall"],
                             t.get("recall", "-"), lk.get(lab, {}).get("rate", "-")])  # fmt: skip
            rows.append(["direct identifiers", d["support"], d["detected"], d["precision"], d["recall"],
                         tr["direct_identifiers"]["recall"], lk["direct_identifiers"]["rate"]])  # fmt: skip
            print(f"\n{name} ({args.part}, {mode} mode, {result['documents']} documents)")
            print(table(["entity", "support", "detected", "span P", "span R", "token R", "leak"], rows))
            summary.append([name, mode, result["documents"], d["precision"], tr["direct_identifiers"]["recall"],
                            lk["direct_identifiers"]["rate"]])  # fmt: skip
        if ACI.is_dir():
            runs[f"aci_bench_names/{mode}"] = aci_names(mode)
            print(f"ACI-Bench ({mode}): {runs[f'aci_bench_names/{mode}']}")
    print("\n" + table(["set", "mode", "docs", "span precision", "token recall", "leak rate"], summary))
    meta = {
        "part": args.part,
        "generated_dev_seed": args.dev_seed,
        "generated_dev_size": args.dev_size,
        "generated_dev_address_style": args.dev_address_style,
    }
    print(f"\nwrote {save(args.name, {**meta, 'runs': runs})}")


if __name__ == "__main__":
    main()
