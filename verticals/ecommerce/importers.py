"""Magento sample catalogue -> products {id, group, attributes, description}.

Configurable products (ConfigurableSampleData__products.csv) carry their variants: sizes and colours are folded
into the parent, so variants of one product are one example and never cross splits. Simple gear products
(CatalogSampleData__SimpleProduct_*.csv) keep their attribute columns (multi-values split on newlines). Yes/No
flags become feature words ("eco collection"). Descriptions are HTML -> text with list structure kept. Products
that share one description share a group (so a copy never sits in train and test at once)."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

from core.data import read_rows
from core.pack import LoadResult
from verticals.ecommerce.html_text import html_to_text

CONFIGURABLE = "ConfigurableSampleData__products.csv"
SIMPLE_PREFIX = "CatalogSampleData__SimpleProduct_"
FLAGS = {"eco_collection": "eco collection", "performance_fabric": "performance fabric"}
SKIP = {"has_options", "required_options", "erin_recommends", "new", "sale", "gift_message_available"}
SIMPLE_COLUMNS = {"category", "name", "sku", "price", "description"}
IGNORED_SIMPLE = {"qty", "visibility", "attribute_set", "url_key", "special_price", "erin_recommends", "new", "sale"}


def is_magento_dir(path: Path) -> bool:
    return path.is_dir() and (path / CONFIGURABLE).is_file()


def _kv(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = html.unescape(value.strip())
    return out


def _category(categories: str) -> str:
    paths = [p for p in (categories or "").split(",") if "/" in p and "/Collections/" not in p]
    parts = paths[0].split("/")[1:] if paths else []
    return " > ".join(parts)


def _price(value: Any) -> str | None:
    try:
        return f"${float(value):.2f}"
    except (TypeError, ValueError):
        return None


def _group(description: str, sku: str, seen: dict[str, str]) -> str:
    digest = hashlib.sha1(description.encode()).hexdigest()
    return seen.setdefault(digest, sku)


def _product(rec: dict[str, Any], attrs: dict[str, Any], groups: dict[str, str]) -> dict[str, Any]:
    description = html_to_text(rec["description"])
    return {"id": rec["sku"], "group": _group(description, rec["sku"], groups), "attributes": attrs,
            "description": description}  # fmt: skip


def _configurable(path: Path, result: LoadResult, groups: dict[str, str]) -> list[dict[str, Any]]:
    products = []
    for _, rec in read_rows(path):
        result.rows_read += 1
        if rec.get("product_type") != "configurable":
            result.count("magento_variant_rows_folded_into_parent")
            continue
        if not (rec.get("description") or "").strip():
            result.count("magento_no_description")
            continue
        attrs: dict[str, Any] = {"name": html.unescape(rec["name"]), "category": _category(rec.get("categories", ""))}
        if _price(rec.get("price")):
            attrs["price"] = _price(rec.get("price"))
        for key, value in _kv(rec.get("additional_attributes", "")).items():
            if key in SKIP or not value:
                continue
            if key in FLAGS:
                if value.lower() == "yes":
                    attrs.setdefault("features", []).append(FLAGS[key])
                continue
            attrs[key] = value.split("|") if "|" in value else value
        sizes: list[str] = []
        colors: list[str] = []
        for variant in (rec.get("configurable_variations") or "").split("|"):
            kv = _kv(variant)
            if kv.get("size") and kv["size"] not in sizes:
                sizes.append(kv["size"])
            if kv.get("color") and kv["color"] not in colors:
                colors.append(kv["color"])
        if sizes:
            attrs["sizes"] = sizes
        if colors:
            attrs["colors"] = colors
        products.append(_product(rec, attrs, groups))
    return products


def _simple(path: Path, result: LoadResult, groups: dict[str, str]) -> list[dict[str, Any]]:
    products = []
    for _, rec in read_rows(path):
        result.rows_read += 1
        if not (rec.get("description") or "").strip():
            result.count("magento_no_description")
            continue
        category = " > ".join(rec["category"].split("\n"))
        attrs: dict[str, Any] = {"name": html.unescape(rec["name"]), "category": category}
        if _price(rec.get("price")):
            attrs["price"] = _price(rec.get("price"))
        for key, value in rec.items():
            if key in SIMPLE_COLUMNS or key in IGNORED_SIMPLE or value in (None, ""):
                continue
            if key in FLAGS:
                if str(value).lower() in ("yes", "1"):
                    attrs.setdefault("features", []).append(FLAGS[key])
                continue
            values = [html.unescape(v.strip()) for v in str(value).split("\n") if v.strip()]
            attrs[key.removesuffix("_bags")] = values if len(values) > 1 else values[0]
        products.append(_product(rec, attrs, groups))
    return products


def load_magento(folder: Path) -> tuple[list[dict[str, Any]], LoadResult]:
    result = LoadResult(examples=[])
    groups: dict[str, str] = {}
    products = _configurable(folder / CONFIGURABLE, result, groups)
    for path in sorted(folder.glob(f"{SIMPLE_PREFIX}*.csv")):
        products += _simple(path, result, groups)
    shared = len(products) - len({p["group"] for p in products})
    if shared:
        result.count("magento_products_sharing_a_description", shared)
    return products, result
