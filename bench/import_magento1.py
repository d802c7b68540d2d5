"""Import a second shop for the e-commerce benchmark: Magento 1.6's demo store (electronics, shoes, apparel,
furniture; manufacturer-style copy, unlike the Luma shop's) from its MySQL sample-data dump, written as the CSV a
user would bring (one row per product, attribute columns, a description column), so the benchmark trains it
through the user-column path.

Source: github.com/sonassi/magento-sample-data @ 08506bc, magento_sample_data_for_1.6.1.0.sql (Magento CE 1.6.1.0
sample data). Licence: the mirror carries no licence file and the dump no licence text; Magento distributed its
sample data with its Academic Free License 3.0 notices, which we could not verify from this copy. So the dump and the
CSV stay outside the project repo and are read from the path a user gives.

Products a shopper cannot see on their own (variants of a configurable product, visibility 1) are folded into their
parent (their sizes and colours become the parent's lists); every product left out or folded is counted in the
import report.

python -m bench.import_magento1 DUMP.sql OUT.csv
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

PRODUCT_ENTITY_TYPE = "10"
CATEGORY_ENTITY_TYPE = "9"
STORE_DEFAULT = "0"
# What a shopper sees: the name, the maker, the category and the facts the store's attribute sets hold.
ATTRIBUTES = (
    "name", "category", "manufacturer", "model", "price", "color", "gender", "shoe_type", "shoe_size",
    "shirt_size", "finish", "room", "dimension", "country_orgin", "megapixels", "processor", "cpu_speed", "memory",
    "ram_size", "hardrive", "harddrive_speed", "screensize", "max_resolution", "response_time", "contrast_ratio",
)  # fmt: skip
VARIANT_ATTRIBUTES = ("color", "shoe_size", "shirt_size")
COLUMN_NAMES = {"country_orgin": "country_of_origin", "hardrive": "hard_drive"}  # the store's own spelling fixed
VISIBLE = {"2", "3", "4"}  # catalog, search, both


def insert_rows(sql: str, table: str) -> list[list[str | None]]:
    """The value tuples of every `INSERT INTO table VALUES (...),(...);` of a mysqldump, strings unescaped."""
    out: list[list[str | None]] = []
    escapes = {"n": "\n", "r": "\r", "t": "\t", "0": "\0"}
    for match in re.finditer(rf"insert\s+into\s+`{table}`\s*(?:\([^)]*\))?\s*values\s*", sql, re.IGNORECASE):
        i = match.end()
        while True:
            while sql[i] in " \r\n\t,":
                i += 1
            if sql[i] == ";":
                break
            if sql[i] != "(":
                raise ValueError(f"{table}: unexpected {sql[i : i + 30]!r} at offset {i}")
            i += 1
            row: list[str | None] = []
            while True:
                while sql[i] == " ":
                    i += 1
                if sql[i] == "'":
                    i += 1
                    chars = []
                    while True:
                        c = sql[i]
                        if c == "\\":
                            chars.append(escapes.get(sql[i + 1], sql[i + 1]))
                            i += 2
                        elif c == "'" and sql[i + 1] == "'":
                            chars.append("'")
                            i += 2
                        elif c == "'":
                            i += 1
                            break
                        else:
                            chars.append(c)
                            i += 1
                    row.append("".join(chars))
                else:
                    j = i
                    while sql[j] not in ",)":
                        j += 1
                    token = sql[i:j].strip()
                    row.append(None if token.upper() == "NULL" else token)
                    i = j
                if sql[i] == ",":
                    i += 1
                    continue
                i += 1  # ')'
                break
            out.append(row)
    return out


def _eav_values(
    sql: str, codes: dict[str, str], choices: set[str], options: dict[str, str]
) -> dict[str, dict[str, str]]:
    """{entity id: {attribute code: value}} at the default store view; the option ids of select and multiselect
    attributes read as their labels."""
    values: dict[str, dict[str, str]] = defaultdict(dict)
    for backend in ("varchar", "text", "decimal", "int"):
        for _, _, attribute_id, store, entity, value in insert_rows(sql, f"catalog_product_entity_{backend}"):
            code = codes.get(attribute_id or "")
            if code and store == STORE_DEFAULT and value not in (None, ""):
                if code in choices:
                    value = ", ".join(options.get(v, v) for v in value.split(","))
                values[entity or ""][code] = value
    return values


def _category_paths(sql: str, names_attr: str) -> dict[str, str]:
    names = {r[4]: r[5] for r in insert_rows(sql, "catalog_category_entity_varchar")
             if r[2] == names_attr and r[3] == STORE_DEFAULT}  # fmt: skip
    paths = {}
    for row in insert_rows(sql, "catalog_category_entity"):
        ids = (row[6] or "").split("/")[2:]  # drop the root and the store's default category
        paths[row[0]] = " > ".join(names[i] for i in ids if names.get(i))
    return paths


def _price(value: str | None) -> str | None:
    return f"${float(value):,.2f}" if value not in (None, "") else None


def import_dump(sql_path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rows for the CSV, import report)."""
    from verticals.ecommerce.html_text import html_to_text

    sql = sql_path.read_text(encoding="utf-8", errors="replace")
    attributes = insert_rows(sql, "eav_attribute")
    codes = {r[0] or "": r[2] or "" for r in attributes if r[1] == PRODUCT_ENTITY_TYPE}
    category_name = next(r[0] for r in attributes if r[1] == CATEGORY_ENTITY_TYPE and r[2] == "name")
    options = {r[1] or "": r[3] or "" for r in insert_rows(sql, "eav_attribute_option_value") if r[2] == STORE_DEFAULT}
    choices = {r[2] or "" for r in attributes if r[1] == PRODUCT_ENTITY_TYPE and r[8] in ("select", "multiselect")
               and r[11] in (None, "", "eav/entity_attribute_source_table")}  # fmt: skip
    values = _eav_values(sql, codes, choices, options)
    entities = {r[0]: r for r in insert_rows(sql, "catalog_product_entity")}
    parents = defaultdict(list)
    for _, child, parent in insert_rows(sql, "catalog_product_super_link"):
        parents[parent].append(child)
    paths = _category_paths(sql, category_name or "")
    categories: dict[str, list[str]] = defaultdict(list)
    for category, product, _ in insert_rows(sql, "catalog_category_product"):
        if paths.get(category or ""):
            categories[product or ""].append(paths[category or ""])
    report: Counter = Counter(products_in_dump=len(entities))
    rows = []
    for entity_id, entity in entities.items():
        own = values.get(entity_id or "", {})
        if own.get("visibility") not in VISIBLE:
            report["not_visible_alone_left_out"] += 1
            report["of_which_variants_folded_into_a_parent"] += any(entity_id in c for c in parents.values())
            continue
        description = html_to_text(own.get("description", "")).strip()
        if not description:
            report["visible_without_description_left_out"] += 1
            continue
        row: dict[str, Any] = {"id": entity[4], "name": own.get("name")}
        row["category"] = max(categories.get(entity_id or "", []), key=len, default=None)
        for code in ATTRIBUTES[2:]:
            row[code] = _price(own.get(code)) if code == "price" else own.get(code)
        for code in VARIANT_ATTRIBUTES:
            seen = [values.get(c, {}).get(code) for c in parents.get(entity_id or "", [])]
            variants = sorted({v for v in seen if v})
            if variants:
                row[code] = ", ".join(variants)
        row = {COLUMN_NAMES.get(k, k): v for k, v in row.items()}
        row["description"] = description
        row["group"] = hashlib.sha1(description.encode()).hexdigest()[:12]  # shared copy stays in one split
        rows.append(row)
    report["products_written"] = len(rows)
    report["products_sharing_a_description"] = len(rows) - len({r["group"] for r in rows})
    return rows, dict(report)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dump", type=Path, help="magento_sample_data_for_1.6.1.0.sql")
    ap.add_argument("out", type=Path, help="CSV to write (one product per row)")
    args = ap.parse_args()
    rows, report = import_dump(args.dump)
    columns = ["id", "group", *(COLUMN_NAMES.get(a, a) for a in ATTRIBUTES), "description"]
    used = [c for c in columns if any(r.get(c) for r in rows)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=used, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(args.out)
    print(json.dumps(report, indent=1))
    print(f"attribute columns: {','.join(c for c in used if c not in ('id', 'group', 'description'))}")
    print(f"wrote {len(rows)} products to {args.out}")


if __name__ == "__main__":
    main()
