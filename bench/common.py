"""Shared bits for benchmarks: where results go, the machine they ran on, a printed table."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.io import write_json
from core.machine import machine_info

RESULTS = Path(__file__).parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def reevaluate(run_dir: Path, systems: list[str] | None = None) -> Path:
    """Score an earlier benchmark run again with the current evaluation and decoding code: same data split, same
    adapter; the pack's state is fitted again on the run's own training split (newer packs keep more state)."""
    from core.evaluation import evaluate_run
    from core.pack import get_pack
    from core.report import write_report
    from core.run_folder import RunFolder

    folder = RunFolder.open(run_dir)
    cfg = folder.load_config()
    pack = get_pack(cfg.pack or "", cfg.pack_options)
    pack.fit(folder.load_split("train"))
    folder.save_pack_state(pack.state())
    evaluate_run(folder, systems=systems)
    write_report(folder)
    return run_dir


def run_settings(args: Any, run_dir: Path) -> dict[str, Any]:
    """The command's options plus the training settings the run really used: with --reuse the command's own
    --epochs default says nothing about the adapter being scored."""
    from core.run_folder import RunFolder

    cfg = RunFolder.open(run_dir).load_config()
    trained = {
        "epochs": cfg.training.epochs,
        "max_length": cfg.training.max_length,
        "learning_rate": cfg.training.learning_rate,
    }
    return {**vars(args), "trained_with": trained}  # write_json stores paths as text


def run_payload(run_dir: Path, results: dict[str, Any], args: Any, started: float, **extra: Any) -> dict[str, Any]:
    """What every pack benchmark writes about its run: systems, verdict, evaluation, training, data, settings."""
    return {
        "run_dir": str(run_dir),
        "systems": results["systems"],
        "verdict": results["verdict"],
        "evaluation": results["evaluation"],
        "training": results["training"],
        "data": results["data"],
        **extra,
        "wall_s": time.time() - started,
        "settings": run_settings(args, run_dir),
    }


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


@contextmanager
def dev_as_held_out(run_dir: Path, overrides: dict[str, Any] | None = None) -> Iterator[Any]:
    """A scratch run folder that shares the run's config, pack state, adapter and training split, with the run's dev
    split as its held-out split: evaluation there scores dev, never the test split (for choosing levers).
    `overrides` change the scratch's config only (decoding and evaluation settings need no retraining)."""
    import shutil
    import tempfile

    from core.config import _deep_merge
    from core.run_folder import RunFolder

    source = RunFolder.open(run_dir)
    with tempfile.TemporaryDirectory(prefix="vft-dev-") as tmp:
        scratch = RunFolder(Path(tmp) / "dev")
        scratch.path.mkdir()
        if overrides:
            merged = _deep_merge(source.load_config().model_dump(mode="json"), overrides)
            scratch.save_config(type(source.load_config()).model_validate(merged))
        else:
            shutil.copy(source.config_path, scratch.config_path)
        shutil.copy(source.pack_state_path, scratch.pack_state_path)
        (scratch.path / "adapter").symlink_to(source.adapter_dir.resolve())
        scratch.save_splits({"train": source.load_split("train"), "dev": [], "test": source.load_split("dev")})
        yield scratch


def score_on_dev(run_dir: Path, systems: list[str]) -> dict[str, Any]:
    """Score systems of a trained run on its *dev* split. Returns {system: headline}."""
    from core.evaluation import evaluate_run

    with dev_as_held_out(run_dir) as scratch:
        results = evaluate_run(scratch, systems=systems, show_progress=False)
        return {name: s.headline for name, s in results.systems.items()}


def result_rows(results: dict[str, Any], metric: str) -> list[list[Any]]:
    """system, headline [interval], parse rate, examples/s: the rows every pack benchmark prints."""
    rows = []
    for name, s in results["systems"].items():
        i = s.get("interval") or {}
        shown = f"{s.get(metric, 0):.3f} [{i.get('low', 0):.3f}, {i.get('high', 0):.3f}]"
        rows.append([name, shown, s.get("parse_rate"), (s.get("cost") or {}).get("examples_per_second")])
    return rows
