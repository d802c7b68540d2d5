"""Serving under load: `vft serve RUN_DIR` started as users start it, 200 /v1/predict requests from 8 concurrent
clients on 127.0.0.1, every answer checked against the run's own held-out prediction of the served system, p50/p95
latency and requests/s reported; then the same requests one at a time, so the batching gain is a ratio measured in
the same run.

python -m bench.serve_load RUN_DIR [--requests 200] [--clients 8] [--system tuned+scored]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.common import save, table
from core.run_folder import RunFolder


def _start(run: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from core.cli import main; main()", "serve", str(run), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(600):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("server did not start")


def _call(url: str, text: str, system: str | None) -> tuple[float, dict]:
    payload = {"input": text, **({"system": system} if system else {})}
    req = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = json.loads(r.read())
    return time.perf_counter() - started, body


def _round(url: str, texts: list[str], clients: int, system: str | None, expected: list[object]) -> dict:
    """`expected`: the run's own held-out prediction for each text (evaluation's answer of the served system)."""
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        out = list(pool.map(lambda t: _call(url, t, system), texts))
    seconds = time.perf_counter() - started
    lat = np.array([o[0] for o in out])
    ok = sum(o[1].get("output") is not None for o in out)
    pairs = [(o[1].get("output"), e) for o, e in zip(out, expected, strict=True) if e is not None]
    same = f"{sum(a == e for a, e in pairs)}/{len(pairs)}"  # only texts the evaluation scored have an answer
    return {"requests": len(texts), "answered": ok, "as_evaluated": same, "clients": clients, "seconds": seconds,
            "requests_per_s": len(texts) / seconds, "p50_s": float(np.percentile(lat, 50)),
            "p95_s": float(np.percentile(lat, 95)), "system": out[0][1].get("system")}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--system", default=None)
    ap.add_argument("--port", type=int, default=8765)
    args = ap.parse_args()
    folder = RunFolder.open(args.run_dir)
    test = folder.load_split("test")
    chosen = [test[i % len(test)] for i in range(args.requests)]
    texts = [ex.text for ex in chosen]
    proc = _start(args.run_dir, args.port)
    url = f"http://127.0.0.1:{args.port}/v1/predict"
    try:
        served = _call(url, texts[0], args.system)[1]["system"]  # warm-up, and which system answers
        evaluated = {r["id"]: r.get("parsed") for r in folder.read_predictions(served)}
        expected = [evaluated.get(ex.id) for ex in chosen]
        concurrent = _round(url, texts, args.clients, args.system, expected)
        n_serial = max(20, args.requests // 5)
        serial = _round(url, texts[:n_serial], 1, args.system, expected[:n_serial])
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    rows = [[f"{r['clients']} client(s)", r["requests"], r["answered"], r["as_evaluated"], r["requests_per_s"],
             r["p50_s"], r["p95_s"]] for r in (concurrent, serial)]  # fmt: skip
    print(table(["load", "requests", "answered", "same as evaluation", "requests/s", "p50 s", "p95 s"], rows))
    ratio = concurrent["requests_per_s"] / serial["requests_per_s"]
    print(f"batching gain: {ratio:.2f}x requests/s (system {concurrent['system']})")
    payload = {"concurrent": concurrent, "serial": serial, "ratio": ratio, "run": str(args.run_dir)}
    print(f"wrote {save('serve_load', payload)}")


if __name__ == "__main__":
    main()
