"""Run every benchmark in turn (`make bench`); each prints its table and writes bench/results/<name>.json."""

from __future__ import annotations

import importlib

BENCHMARKS = ("bench.redact_recall", "bench.redact_throughput", "bench.generate_throughput")


def main() -> None:
    for name in BENCHMARKS:
        print(f"\n=== {name} ===")
        importlib.import_module(name).main()


if __name__ == "__main__":
    main()
