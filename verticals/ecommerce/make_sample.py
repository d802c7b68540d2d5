"""Rebuild the bundled sample from ../shared/data/ecommerce/magento: every product with its attributes and its
description as text, in the pack's own JSONL format {id, group, attributes, description}.

python -m verticals.ecommerce.make_sample
"""

from __future__ import annotations

from pathlib import Path

from core.io import write_jsonl
from verticals.ecommerce.importers import load_magento

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data" / "ecommerce" / "magento"
OUT = Path(__file__).parent / "data" / "luma_sample.jsonl"


def main() -> None:
    products, result = load_magento(SHARED)
    write_jsonl(OUT, products)
    print(f"wrote {len(products)} products to {OUT} (counts: {result.counts})")


if __name__ == "__main__":
    main()
