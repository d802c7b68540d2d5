"""Read user files, validate with row numbers, dedup, split deterministically, check leakage, report counts.

Nothing is dropped silently: every row removed or changed is counted in the data report (data_report.json).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import DataError, DataErrors
from core.pack import Example, LoadResult, Pack

SUPPORTED_SUFFIXES = (".jsonl", ".json", ".csv", ".parquet")
MAX_ERRORS_SHOWN = 10
NEAR_DUPLICATE_THRESHOLD = 0.9
csv.field_size_limit(64 * 1024 * 1024)


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        raise DataError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-save the file as UTF-8",
            file=str(path),
            row=row,
        ) from None


def read_rows(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, record) from JSONL, JSON (a list), CSV or Parquet. Row numbers are 1-based data rows
    (for CSV the header is row 0, so row N is line N+1 of the file)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DataError(
            f"unsupported file type '{suffix}' (use one of {', '.join(SUPPORTED_SUFFIXES)})", file=str(path)
        )
    if path.stat().st_size == 0:
        raise DataError("file is empty", file=str(path))
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several unrelated types for corrupt files
            raise DataError(f"cannot read Parquet: {exc}", file=str(path)) from None
        for i, rec in enumerate(table.to_pylist(), start=1):
            yield i, rec
        return
    text = _decode(path)
    if suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        if not reader.fieldnames:
            raise DataError("CSV has no header row", file=str(path))
        for i, rec in enumerate(reader, start=1):
            if None in rec:
                raise DataError(
                    f"row has {len(reader.fieldnames) + len(rec[None])} cells but the header has "
                    f"{len(reader.fieldnames)}",
                    file=str(path),
                    row=i,
                )
            yield i, dict(rec)
        return
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON: {exc.msg}", file=str(path), row=exc.lineno) from None
        if not isinstance(data, list):
            raise DataError("a .json file must hold a list of records (or use .jsonl)", file=str(path))
        for i, rec in enumerate(data, start=1):
            if not isinstance(rec, dict):
                raise DataError("record is not an object", file=str(path), row=i)
            yield i, rec
        return
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not valid JSON ({exc.msg} at column {exc.colno})", file=str(path), row=i) from None
        if not isinstance(rec, dict):
            raise DataError("line is not a JSON object", file=str(path), row=i)
        yield i, rec


def require_text(rec: dict[str, Any], field_name: str, *, allow_empty: bool = False) -> str:
    """A text field that must be present and a string; raises DataError naming the field (row added later)."""
    if field_name not in rec:
        present = ", ".join(sorted(map(str, rec))) or "none"
        raise DataError(f"missing (columns present: {present})", field=field_name)
    value = rec[field_name]
    if value is None or (isinstance(value, float) and value != value):
        value = ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(f"expected text, got {type(value).__name__}", field=field_name)
    if not allow_empty and not value.strip():
        raise DataError("is empty", field=field_name)
    return value


def chat_example(rec: dict[str, Any], row: int, parse: Callable[[str], Any]) -> Example:
    """OpenAI chat JSONL: {"messages": [{role, content}, ...]} ending with the assistant turn to learn."""
    msgs = rec.get("messages")
    if not isinstance(msgs, list) or not msgs:
        raise DataError("must be a non-empty list of {role, content}", field="messages")
    for j, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("content"), str):
            raise DataError(f"message {j} needs a text 'content'", field=f"messages[{j}]")
        if m.get("role") not in ("system", "user", "assistant"):
            raise DataError(f"unknown role {m.get('role')!r}", field=f"messages[{j}].role")
    if msgs[-1]["role"] != "assistant":
        raise DataError("the last message must be the assistant's answer", field="messages")
    users = [m for m in msgs[:-1] if m["role"] == "user"]
    if not users:
        raise DataError("no user message before the answer", field="messages")
    target = msgs[-1]["content"]
    try:
        reference = parse(target)
    except Exception as exc:
        raise DataError(
            f"assistant answer does not fit the pack's output: {exc}", field=f"messages[{len(msgs) - 1}].content"
        ) from None
    prompt = tuple({"role": m["role"], "content": m["content"]} for m in msgs[:-1])
    return Example(
        id=str(rec.get("id", row)),
        text=users[-1]["content"],
        target=target,
        reference=reference,
        split=rec.get("split"),
        prompt=prompt,
    )


def load_with(
    path: str | Path,
    to_examples: Callable[[dict[str, Any], int], list[Example]],
    *,
    skip_invalid: bool = False,
    parse: Callable[[str], Any] | None = None,
) -> LoadResult:
    """Run a pack's row converter over a file, collecting errors with file and row. Chat rows go to
    `chat_example`. With skip_invalid, bad rows are skipped and counted; otherwise they stop the run."""
    path = Path(path)
    result = LoadResult(examples=[])
    errors: list[DataError] = []
    bad = 0
    for row, rec in read_rows(path):
        result.rows_read += 1
        try:
            if "messages" in rec and parse is not None:
                result.examples.append(chat_example(rec, row, parse))
            else:
                result.examples.extend(to_examples(rec, row))
        except DataError as exc:
            bad += 1
            err = DataError(exc.reason, file=str(path), row=row, field=exc.field)
            if len(errors) < MAX_ERRORS_SHOWN:
                errors.append(err)
    if result.rows_read == 0:
        raise DataError("no data rows", file=str(path))
    if bad and not skip_invalid:
        raise DataErrors(errors, bad)
    if bad:
        result.count("skipped_invalid_rows", bad)
        result.notes.extend(str(e) for e in errors)
    return result


# -- dedup, split, leakage --------------------------------------------------------------------------------

_ws = re.compile(r"\s+")


def normalise(text: str) -> str:
    return _ws.sub(" ", text).strip().lower()


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example]
    test: list[Example]
    report: dict[str, Any] = field(default_factory=dict)


def dedup(examples: Sequence[Example]) -> tuple[list[Example], dict[str, Any]]:
    """Drop exact duplicates; for the same input with different targets keep the first and count the rest."""
    seen: dict[str, Example] = {}
    kept: list[Example] = []
    exact = conflicts = 0
    conflict_ids: list[str] = []
    for ex in examples:
        key = normalise(ex.text) if ex.prompt is None else normalise(json.dumps(ex.prompt))
        first = seen.get(key)
        if first is None:
            seen[key] = ex
            kept.append(ex)
        elif first.target == ex.target:
            exact += 1
        else:
            conflicts += 1
            if len(conflict_ids) < 50:
                conflict_ids.append(f"{ex.id} (conflicts with {first.id})")
    return kept, {
        "exact_duplicates_dropped": exact,
        "conflicting_duplicates_dropped": conflicts,
        "conflicting_duplicate_ids": conflict_ids,
    }


def _bucket(key: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_examples(
    examples: Sequence[Example], *, eval_fraction: float, test_fraction: float, seed: int
) -> tuple[list[Example], list[Example], list[Example], str]:
    """Deterministic, order-independent split by hashing each example's group (or id): all rows of one group
    (a contract, a product) land in the same split. A 'split' column in the data wins when present."""
    if any(ex.split for ex in examples):
        by = {"train": [], "validation": [], "dev": [], "test": []}
        for ex in examples:
            name = (ex.split or "train").lower()
            if name not in by:
                raise DataError(f"unknown split '{ex.split}' (use train, validation or test)", field="split")
            by[name].append(ex)
        return by["train"], by["validation"] + by["dev"], by["test"], "from the data's split column"
    train, dev, test = [], [], []
    for ex in examples:
        u = _bucket(ex.group or ex.id, seed)
        (test if u < test_fraction else dev if u < test_fraction + eval_fraction else train).append(ex)
    how = "hash of group" if any(ex.group for ex in examples) else "hash of example id"
    return train, dev, test, f"{how} (seed {seed})"


def near_duplicates(
    train: Sequence[Example], other: Sequence[Example], threshold: float = NEAR_DUPLICATE_THRESHOLD
) -> list[int]:
    """Indices of `other` whose input is (near-)identical to a training input: character 3-5-gram TF-IDF
    cosine >= threshold. Catches re-formatted copies that exact matching misses."""
    if not train or not other:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=1, max_features=200_000)
    train_m = vec.fit_transform(normalise(e.text) for e in train)
    other_m = vec.transform(normalise(e.text) for e in other)
    hits: list[int] = []
    step = 256
    for start in range(0, other_m.shape[0], step):
        sims = (other_m[start : start + step] @ train_m.T).max(axis=1).toarray().ravel()
        hits.extend(start + int(i) for i in (sims >= threshold).nonzero()[0])
    return hits


def prepare_splits(
    pack: Pack,
    path: str | Path,
    *,
    eval_fraction: float,
    test_fraction: float,
    seed: int,
    max_train_examples: int | None = None,
    max_dev_examples: int | None = None,
    skip_invalid: bool = False,
    after_load: Callable[[list[Example]], list[Example]] | None = None,
) -> Splits:
    """File -> validated, deduplicated, leakage-checked train/dev/test splits plus the data report.
    `after_load` runs on all examples before anything else sees them (PII scrubbing)."""
    path = Path(path)
    loaded = pack.load(path, skip_invalid=skip_invalid)
    if not loaded.examples:
        raise DataError(
            f"no usable examples after reading (see the pack's counts: {loaded.counts or 'none'})", file=str(path)
        )
    loaded_examples = after_load(loaded.examples) if after_load else loaded.examples
    examples, dup_counts = dedup(loaded_examples)
    if len(examples) < 2:
        raise DataError(
            f"only {len(examples)} distinct example(s) in {len(loaded_examples)} rows: the rest are duplicates "
            f"({dup_counts['exact_duplicates_dropped']} exact, {dup_counts['conflicting_duplicates_dropped']} with "
            "a different answer)",
            file=str(path),
        )
    train, dev, test, how = split_examples(
        examples, eval_fraction=eval_fraction, test_fraction=test_fraction, seed=seed
    )
    leak_test = set(near_duplicates(train, test))
    leak_dev = set(near_duplicates(train, dev))
    test = [e for i, e in enumerate(test) if i not in leak_test]
    dev = [e for i, e in enumerate(dev) if i not in leak_dev]
    capped = dev_capped = 0
    if max_train_examples is not None and len(train) > max_train_examples:
        capped = len(train) - max_train_examples
        train = random.Random(seed).sample(train, max_train_examples)
    if max_dev_examples is not None and len(dev) > max_dev_examples:
        dev_capped = len(dev) - max_dev_examples
        dev = random.Random(seed).sample(dev, max_dev_examples)
    if not train:
        raise DataError(
            "the training split is empty: too few rows or groups for the requested fractions", file=str(path)
        )
    pack.fit(train)
    train, resample_counts = pack.resample_train(train, seed)
    report: dict[str, Any] = {
        "file": str(path),
        "rows_read": loaded.rows_read,
        "examples_loaded": len(loaded.examples),
        "pack_counts": loaded.counts,
        "pack_notes": loaded.notes,
        **dup_counts,
        "split_method": how,
        "leakage_removed_from_test": len(leak_test),
        "leakage_removed_from_dev": len(leak_dev),
        "train_capped_by_max_train_examples": capped,
        "dev_capped_by_max_dev_examples": dev_capped,
        **resample_counts,
        "splits": {"train": len(train), "dev": len(dev), "test": len(test)},
        "groups": {
            name: len({e.group for e in part if e.group})
            for name, part in (("train", train), ("dev", dev), ("test", test))
        },
    }
    warnings = []
    if not test and test_fraction > 0:
        warnings.append("test split is empty: held-out evaluation will be skipped")
    if not dev and eval_fraction > 0:
        warnings.append("validation split is empty: no eval loss and no early stopping")
    if warnings:
        report["warnings"] = warnings
    return Splits(train, dev, test, report)
