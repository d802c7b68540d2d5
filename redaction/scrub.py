"""Scrub the text fields of a dataset: detect in batches, replace, and write an audit with counts only (no raw
values). The output is written atomically and the audit marks it as scrubbed (with the output's hash)."""

from __future__ import annotations

import csv
import hashlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.data import read_rows
from core.errors import DataError
from core.io import atomic_path, write_json
from redaction.engine import DEFAULT_THRESHOLD, Detector, Mode, RecallMode
from redaction.operators import Operator, Replacer

AUDIT_VERSION = 1


@dataclass
class ScrubResult:
    records: list[dict[str, Any]]
    audit: dict[str, Any] = field(default_factory=dict)
    spans: list[dict[str, list[Any]]] = field(default_factory=list)  # per record and field, what was replaced


def _check_fields(rec: dict[str, Any], fields: Sequence[str], row: int, source: str) -> None:
    for f in fields:
        if f not in rec:
            raise DataError(f"missing (columns present: {', '.join(sorted(rec))})", file=source, row=row, field=f)
        if rec[f] is not None and not isinstance(rec[f], str):
            raise DataError(f"expected text, got {type(rec[f]).__name__}", file=source, row=row, field=f)


def scrub_records(
    records: Sequence[dict[str, Any]],
    fields: Sequence[str],
    *,
    operator: Operator = "surrogate",
    mode: Mode = "spacy",
    threshold: float = DEFAULT_THRESHOLD,
    key: str | None = None,
    source: str = "<records>",
    progress: Any = None,
    batch_size: int = 64,
    workers: int = 1,
    keep_spans: bool = False,
    recall_mode: RecallMode = "default",
    detector: Any = None,
) -> ScrubResult:
    """Scrub `fields` of every record (other fields are copied unchanged). Raises DataError on a missing field or
    a non-text value, naming the row and field. `detector`: another object with detect_many (the benchmark's
    Presidio-defaults baseline) in place of this project's Detector."""
    if not fields:
        raise DataError("no fields to scrub: pass --fields", file=source)
    for i, rec in enumerate(records, start=1):
        _check_fields(rec, fields, i, source)
    if detector is None:
        detector = Detector(mode, threshold, batch_size=batch_size, workers=workers, recall_mode=recall_mode)
    replacer = Replacer(operator, key)
    out = [dict(r) for r in records]
    replaced: list[dict[str, list[Any]]] = [{} for _ in records]
    counts: dict[str, Counter] = defaultdict(Counter)
    rows_changed = 0
    changed_rows: set[int] = set()
    started = time.perf_counter()
    step = batch_size * max(workers, 1) * 8  # texts per call: large enough for every worker, small for progress
    for f in fields:
        texts = [r[f] or "" for r in records]
        for start in range(0, len(texts), step):
            chunk = texts[start : start + step]
            for j, spans in enumerate(detector.detect_many(chunk)):
                idx = start + j
                if keep_spans:
                    replaced[idx][f] = spans
                if spans:
                    out[idx][f] = replacer.replace(chunk[j], spans)
                    changed_rows.add(idx)
                    counts[f].update(s.label for s in spans)
            if progress is not None:
                progress(len(chunk))
    rows_changed = len(changed_rows)
    totals: Counter = Counter()
    for c in counts.values():
        totals.update(c)
    audit = {
        "scrubbed": True,
        "audit_version": AUDIT_VERSION,
        "source": Path(source).name,
        "fields": list(fields),
        "operator": operator,
        "detector": getattr(detector, "name", mode),
        "recall_mode": recall_mode,
        "threshold": threshold,
        "rows": len(records),
        "rows_changed": rows_changed,
        "entities_by_field": {f: dict(c) for f, c in counts.items()},
        "entities_total": dict(totals),
        "seconds": round(time.perf_counter() - started, 2),
        "note": "counts only; no original values are stored. Surrogate/hash keys are random per run and not saved.",
    }
    return ScrubResult(out, audit, replaced if keep_spans else [])


def _write(path: Path, records: list[dict[str, Any]], fieldnames: list[str] | None) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        if path.suffix.lower() == ".csv":
            writer = csv.DictWriter(fh, fieldnames=fieldnames or list(records[0]))
            writer.writeheader()
            writer.writerows(records)
        else:
            for r in records:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def default_output(path: Path) -> Path:
    return path.with_name(f"{path.stem}.scrubbed{path.suffix}")


def audit_path_for(out: Path) -> Path:
    return out.with_name(f"{out.stem}.redaction_audit.json")


def scrub_file(
    path: str | Path,
    out: str | Path | None,
    fields: Sequence[str],
    *,
    operator: Operator = "surrogate",
    mode: Mode = "spacy",
    threshold: float = DEFAULT_THRESHOLD,
    show_progress: bool = True,
    audit_path: str | Path | None = None,
    workers: int = 1,
    recall_mode: RecallMode = "default",
) -> tuple[Path, Path, dict[str, Any]]:
    path = Path(path)
    if path.suffix.lower() not in (".jsonl", ".csv"):
        raise DataError("redaction reads JSONL or CSV", file=str(path))
    out_path = Path(out) if out else default_output(path)
    if out_path.resolve() == path.resolve():
        raise DataError("output would overwrite the input; choose another -o", file=str(path))
    rows = [rec for _, rec in read_rows(path)]
    fieldnames = list(rows[0]) if rows else None
    settings = {"operator": operator, "mode": mode, "threshold": threshold, "source": str(path), "workers": workers,
                "recall_mode": recall_mode}  # fmt: skip
    if show_progress:
        from rich.progress import Progress

        with Progress(transient=False) as bar:
            task = bar.add_task(f"scrubbing {path.name}", total=len(rows) * len(fields))
            result = scrub_records(rows, fields, progress=lambda n: bar.advance(task, n), **settings)
    else:
        result = scrub_records(rows, fields, **settings)
    _write(out_path, result.records, fieldnames)
    result.audit["output"] = out_path.name
    result.audit["output_sha256"] = hashlib.sha256(out_path.read_bytes()).hexdigest()
    audit_file = Path(audit_path) if audit_path else audit_path_for(out_path)
    write_json(audit_file, result.audit)
    return out_path, audit_file, result.audit


def is_scrubbed(path: str | Path) -> bool:
    """True when an audit next to `path` says it is the scrubbed output and the file is unchanged since."""
    path = Path(path)
    audit_file = audit_path_for(path)
    if not audit_file.is_file():
        return False
    audit = json.loads(audit_file.read_text(encoding="utf-8"))
    return bool(audit.get("scrubbed")) and audit.get("output_sha256") == hashlib.sha256(path.read_bytes()).hexdigest()


class PresidioScrubber:
    """core.privacy.Scrubber backed by this package: what `vft train` hands to the pipeline for packs that need
    scrubbing. One key per run, so a name gets the same surrogate in every example of the run."""

    def __init__(
        self,
        operator: Operator = "surrogate",
        mode: Mode = "spacy",
        threshold: float = DEFAULT_THRESHOLD,
        workers: int = 1,
        show_progress: bool = True,
        recall_mode: RecallMode = "default",
    ):
        self.settings = {"operator": operator, "mode": mode, "threshold": threshold, "workers": workers,
                         "recall_mode": recall_mode}  # fmt: skip
        self.show_progress = show_progress

    @classmethod
    def from_config(cls, settings: Any, show_progress: bool = True) -> PresidioScrubber:
        return cls(
            settings.operator,
            settings.detector,
            settings.threshold,
            settings.workers,
            show_progress,
            recall_mode=getattr(settings, "recall_mode", "default"),
        )

    def is_marked_scrubbed(self, path: Path) -> bool:
        return is_scrubbed(path)

    def scrub_texts(self, texts: list[str], *, source: str) -> tuple[list[str], dict[str, Any]]:
        records = [{"text": t} for t in texts]
        if self.show_progress:
            from rich.progress import Progress

            with Progress(transient=False) as bar:
                task = bar.add_task(f"scrubbing PII in {source}", total=len(records))
                result = scrub_records(
                    records, ["text"], source=source, progress=lambda n: bar.advance(task, n), **self.settings
                )
        else:
            result = scrub_records(records, ["text"], source=source, **self.settings)
        return [r["text"] for r in result.records], result.audit
