"""Run the benchmarks in turn (`make bench`); each prints its table and writes bench/results/<name>.json.

python -m bench.run_all             # throughput and redaction (minutes)
python -m bench.run_all --quality   # also the fine-tuned vs prompted comparisons of the packs (hours on a CPU)
"""

from __future__ import annotations

import argparse
import importlib
import sys

BENCHMARKS = (
    "bench.redact_recall",
    "bench.redact_throughput",
    "bench.generate_throughput",
    "bench.train_throughput",
    "bench.train_memory",
)
QUALITY = ("bench.legal_cuad", "bench.clinical_aci", "bench.ecommerce_magento")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quality", action="store_true", help="also run the pack quality benchmarks")
    args = ap.parse_args()
    for name in BENCHMARKS + (QUALITY if args.quality else ()):
        print(f"\n=== {name} ===", flush=True)
        sys.argv = [name]  # each benchmark parses its own defaults
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
