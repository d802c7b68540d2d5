"""Shared bits for benchmarks: where results go, the machine they ran on, a printed table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from core.evaluation import machine_info
from core.io import write_json

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def save(name: str, payload: dict[str, Any]) -> Path:
    payload = {"benchmark": name, "ran_at": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": machine_info(), **payload}
    return write_json(RESULTS / f"{name}.json", payload)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in cells]
    return "\n".join([line, sep, *body])
