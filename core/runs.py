"""Run folders: one per training run, named <pack>-<yyyymmdd-hhmmss>, holding everything the run leaves."""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path
from typing import Any

import yaml

from core.config import RunConfig, dump_config
from core.errors import RunError
from core.io import write_jsonl, write_text
from core.pack import Example


def create_run_dir(output_dir: str | Path, pack_name: str, name: str | None = None) -> Path:
    """Make a fresh run folder. mkdir without exist_ok makes two runs started in the same second distinct."""
    root = Path(output_dir)
    root.mkdir(parents=True, exist_ok=True)
    base = name or f"{pack_name}-{time.strftime('%Y%m%d-%H%M%S')}"
    for attempt in range(1000):
        path = root / (base if attempt == 0 else f"{base}-{attempt + 1}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            if name is not None and attempt == 0 and not any(path.iterdir()):
                return path
            continue
    raise RunError(f"could not create a run folder under {root}")


def save_config(run_dir: Path, cfg: RunConfig) -> None:
    write_text(run_dir / "config.yaml", dump_config(cfg))


def load_config(run_dir: Path) -> RunConfig:
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise RunError(f"{run_dir} is not a run folder (no config.yaml)")
    return RunConfig.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def _example_row(ex: Example) -> dict[str, Any]:
    row = dataclasses.asdict(ex)
    row["prompt"] = list(ex.prompt) if ex.prompt is not None else None
    return row


def save_splits(run_dir: Path, splits: dict[str, list[Example]]) -> None:
    for name, examples in splits.items():
        write_jsonl(run_dir / "data" / f"{name}.jsonl", (_example_row(e) for e in examples))


def load_split(run_dir: Path, name: str) -> list[Example]:
    path = Path(run_dir) / "data" / f"{name}.jsonl"
    if not path.is_file():
        raise RunError(f"{run_dir}: split '{name}' missing ({path})")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            prompt = tuple(row["prompt"]) if row.get("prompt") else None
            out.append(Example(**{**row, "prompt": prompt}))
    return out


def adapter_dir(run_dir: Path) -> Path:
    return Path(run_dir) / "adapter"


def has_adapter(run_dir: Path) -> bool:
    return (adapter_dir(run_dir) / "adapter_config.json").is_file()


def last_checkpoint(run_dir: Path) -> Path | None:
    ckpt_root = Path(run_dir) / "checkpoints"
    if not ckpt_root.is_dir():
        return None
    done = [p for p in ckpt_root.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
    return max(done, key=lambda p: int(p.name.split("-")[-1])) if done else None


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0
