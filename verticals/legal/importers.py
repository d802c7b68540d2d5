"""CUAD (Contract Understanding Atticus Dataset, CC BY 4.0) master_clauses.csv -> one example per clause text.

Each category column holds a Python-style list of clause texts found in one contract. Metadata categories
(names, parties, dates) are entity spans, not clauses, and are left out. A clause text that carries several
categories in one contract is handled by an explicit policy and counted: drop (default), first, or keep-all
(which yields conflicting duplicates that core then counts and drops) or multi (one multi-label example; the
pack switches to {"labels": [...]} output).
"""

from __future__ import annotations

import ast
import csv
from collections import Counter, defaultdict
from pathlib import Path
from typing import Literal

from core.data import normalise, read_rows
from core.errors import DataError
from core.pack import Example, LoadResult

NON_CLAUSE_CATEGORIES = {"Document Name", "Parties", "Agreement Date", "Effective Date"}
OMITTED = "<omitted>"
MultiPolicy = Literal["drop", "first", "keep", "multi"]


def is_cuad_master(columns: list[str]) -> bool:
    return "Filename" in columns and "Governing Law-Answer" in columns


def clause_categories(columns: list[str]) -> list[str]:
    return [c for c in columns if f"{c}-Answer" in columns and c not in NON_CLAUSE_CATEGORIES]


def _clauses(cell: object, where: tuple[str, int, str]) -> list[str]:
    if cell is None or str(cell).strip() in ("", "[]"):
        return []
    try:
        value = ast.literal_eval(str(cell))
    except (ValueError, SyntaxError):
        raise DataError("not a list of clause texts", file=where[0], row=where[1], field=where[2]) from None
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value if str(v).strip()]


def category_definitions(path: str | Path) -> dict[str, str]:
    """CUAD's category_descriptions.csv -> {category: first sentence of its description}."""
    out: dict[str, str] = {}
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if not row or not row[0].startswith("Category:"):
                continue
            name = row[0].removeprefix("Category:").strip()
            desc = row[1].removeprefix("Description:").strip() if len(row) > 1 else ""
            out[name] = desc.split(". ")[0].rstrip(".")
    return out


def load_cuad(
    path: str | Path,
    *,
    categories: list[str] | None = None,
    top_k: int | None = 10,
    multi_category: MultiPolicy = "drop",
) -> LoadResult:
    path = Path(path)
    rows = list(read_rows(path))
    if not rows:
        raise DataError("no rows", file=str(path))
    columns = list(rows[0][1].keys())
    all_cats = clause_categories(columns)
    result = LoadResult(examples=[], rows_read=len(rows))
    per_contract: list[tuple[str, dict[str, list[str]]]] = []
    totals: Counter = Counter()
    for row_no, rec in rows:
        contract = str(rec.get("Filename") or f"row-{row_no}")
        found: dict[str, list[str]] = {}
        for cat in all_cats:
            texts = _clauses(rec.get(cat), (str(path), row_no, cat))
            if texts:
                found[cat] = texts
                totals[cat] += len(texts)
        per_contract.append((contract, found))
    if categories:
        unknown = sorted(set(categories) - set(all_cats))
        if unknown:
            raise DataError(f"unknown CUAD categories {unknown}", file=str(path))
        chosen = list(categories)
    else:
        chosen = [c for c, _ in totals.most_common(top_k)]
    chosen_set = set(chosen)
    result.notes.append(f"categories used ({len(chosen)}): {', '.join(chosen)}")
    for contract, found in per_contract:
        by_text: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for cat, texts in found.items():
            for text in texts:
                by_text[normalise(text)].append((cat, text))
        for _key, hits in by_text.items():
            cats = [c for c, _ in hits]
            in_scope = [c for c in dict.fromkeys(cats) if c in chosen_set]
            if not in_scope:
                result.count("clauses_outside_chosen_categories", 1)
                continue
            if len(set(cats)) > 1:
                result.count("clauses_with_several_categories", 1)
                if multi_category == "drop":
                    result.count("dropped_multi_category", 1)
                    continue
                if multi_category == "first":
                    in_scope = in_scope[:1]
                    result.count("multi_category_kept_first", 1)
                if multi_category == "multi":
                    result.count("multi_category_kept_as_label_set", 1)
            text = hits[0][1]
            if OMITTED in text:
                text = text.replace(OMITTED, "[…]")
                result.count("omitted_marker_replaced", 1)
            if multi_category == "multi":  # one example carrying every in-scope category
                ex_id = f"{contract}#multi#{len(result.examples)}"
                result.examples.append(
                    Example(id=ex_id, text=text, target="", reference=sorted(in_scope), group=contract)
                )
                continue
            for cat in in_scope:
                ex_id = f"{contract}#{cat}#{len(result.examples)}"
                result.examples.append(Example(id=ex_id, text=text, target="", reference=cat, group=contract))
    return result
