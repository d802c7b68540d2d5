"""Reader for PhysioNet's deid 1.1 gold-standard corpus: 2,434 ICU nursing notes (upper case, abbreviated, real
PHI replaced by surrogates) with gold PHI phrases. The corpus is GPL-2.0 and stays out of this repository: pass the
folder holding `id.text` and `id-phi.phrase` (see bench/NOTES.md for where it came from).

The held-out part is frozen by patient: a patient's SHA-256 bucket puts all their notes in dev or held-out."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from core.errors import DataError
from redaction import entities as E

HELD_OUT_SHARE = 0.3
TYPES = {
    "PTName": E.PERSON,
    "PTNameInitial": E.PERSON,
    "RelativeProxyName": E.PERSON,
    "HCPName": E.PERSON,
    "Date": E.DATE,
    "Phone": E.PHONE,
    "Age": E.AGE,
    "Location": E.LOCATION,
    "DateYear": None,  # a year alone is not a HIPAA identifier
    "Other": None,
}
_RECORD = re.compile(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", re.S)


def patient_split(patient: int) -> str:
    digest = hashlib.sha256(f"physionet-deid:{patient}".encode()).digest()
    return "held_out" if int.from_bytes(digest[:8], "big") / 2**64 < HELD_OUT_SHARE else "dev"


def read_deid_corpus(folder: str | Path) -> list[dict[str, Any]]:
    """Notes as {id, text, spans: [{start, end, label}], patient, split}; phrases of unscored types are left out."""
    folder = Path(folder)
    text_path, phrase_path = folder / "id.text", folder / "id-phi.phrase"
    for path in (text_path, phrase_path):
        if not path.is_file():
            raise DataError("not found: pass the folder with id.text and id-phi.phrase", file=str(path))
    notes = {(int(p), int(n)): body for p, n, body in _RECORD.findall(text_path.read_text(encoding="utf-8"))}
    spans: dict[tuple[int, int], list[dict[str, Any]]] = {key: [] for key in notes}
    for row, line in enumerate(phrase_path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split()
        if len(parts) < 6:
            continue
        patient, note, start, end, kind = int(parts[0]), int(parts[1]), int(parts[2]), int(parts[3]), parts[4]
        if (patient, note) not in notes:
            raise DataError(f"phrase for unknown note {patient}/{note}", file=str(phrase_path), row=row)
        label = TYPES.get(kind)
        body = notes[(patient, note)]
        end = min(end, len(body))
        while end > start and body[end - 1].isspace():
            end -= 1
        if label is not None and end > start:
            spans[(patient, note)].append({"start": start, "end": end, "label": label})
    return [
        {
            "id": f"deid-{p}-{n}",
            "text": body,
            "spans": sorted(spans[(p, n)], key=lambda s: s["start"]),
            "patient": p,
            "split": patient_split(p),
        }
        for (p, n), body in sorted(notes.items())
    ]
