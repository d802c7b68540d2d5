"""A run folder (`runs/<pack>-<yyyymmdd-hhmmss>/`) and everything in it. This is the one module that spells the
folder's file names; every other module asks a RunFolder for a path, and results.json is read and updated only
here (validated against core.results.RunResults).

    config.yaml           the effective run config          data_report.json   what was read, dropped, split
    pack_state.json       what the pack fitted (labels...)   redaction_audit.json  counts only, if scrubbed
    data/{split}.jsonl    train / dev / test examples       checkpoints/       resume points
    train_log.jsonl       every trainer log line            adapter/           PEFT adapter + tokenizer + template
    predictions/*.jsonl   one file per system               results.json       scores (schema: core.results)
    report.md, report.html, plots/*.png
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.config import RunConfig, dump_config, load_run_config
from core.errors import RunError
from core.io import atomic_path, read_json, write_json, write_jsonl, write_text
from core.pack import Example
from core.results import RunResults

SPLITS = ("train", "dev", "test")


class RunFolder:
    CONFIG = "config.yaml"
    DATA_REPORT = "data_report.json"
    PACK_STATE = "pack_state.json"
    REDACTION_AUDIT = "redaction_audit.json"
    TRAIN_LOG = "train_log.jsonl"
    RESULTS = "results.json"
    REPORT_MD = "report.md"
    REPORT_HTML = "report.html"
    FAILED_MARKER = ".start_failed"

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    def __fspath__(self) -> str:
        return str(self.path)

    @property
    def name(self) -> str:
        return self.path.name

    # -- making and opening ---------------------------------------------------------------------------------
    @classmethod
    def create(cls, output_dir: str | Path, pack_name: str, name: str | None = None) -> RunFolder:
        """Make a fresh run folder. mkdir without exist_ok makes two runs started in the same second distinct."""
        root = Path(output_dir)
        root.mkdir(parents=True, exist_ok=True)
        base = name or f"{pack_name}-{time.strftime('%Y%m%d-%H%M%S')}"
        for attempt in range(1000):
            path = root / (base if attempt == 0 else f"{base}-{attempt + 1}")
            try:
                path.mkdir()
                return cls(path)
            except FileExistsError:
                if name is not None and attempt == 0 and not any(path.iterdir()):
                    return cls(path)
                continue
        raise RunError(f"could not create a run folder under {root}")

    @classmethod
    def open(cls, path: str | Path) -> RunFolder:
        folder = cls(path)
        if not folder.config_path.is_file():
            raise RunError(f"{path} is not a run folder (no {cls.CONFIG})")
        return folder

    # -- paths ----------------------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.path / self.CONFIG

    @property
    def data_report_path(self) -> Path:
        return self.path / self.DATA_REPORT

    @property
    def pack_state_path(self) -> Path:
        return self.path / self.PACK_STATE

    @property
    def redaction_audit_path(self) -> Path:
        return self.path / self.REDACTION_AUDIT

    @property
    def train_log_path(self) -> Path:
        return self.path / self.TRAIN_LOG

    @property
    def results_path(self) -> Path:
        return self.path / self.RESULTS

    @property
    def report_md_path(self) -> Path:
        return self.path / self.REPORT_MD

    @property
    def report_html_path(self) -> Path:
        return self.path / self.REPORT_HTML

    @property
    def failed_marker(self) -> Path:
        return self.path / self.FAILED_MARKER

    @property
    def adapter_dir(self) -> Path:
        return self.path / "adapter"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def predictions_dir(self) -> Path:
        return self.path / "predictions"

    @property
    def plots_dir(self) -> Path:
        return self.path / "plots"

    def split_path(self, split: str) -> Path:
        return self.path / "data" / f"{split}.jsonl"

    def predictions_path(self, system: str) -> Path:
        return self.predictions_dir / f"{system}.jsonl"

    def plot_path(self, name: str) -> Path:
        return self.plots_dir / f"{name}.png"

    # -- config, pack state, data ---------------------------------------------------------------------------
    def save_config(self, cfg: RunConfig) -> None:
        write_text(self.config_path, dump_config(cfg))

    def load_config(self) -> RunConfig:
        if not self.config_path.is_file():
            raise RunError(f"{self.path} is not a run folder (no {self.CONFIG})")
        return load_run_config(self.config_path.read_text(encoding="utf-8"))

    def save_pack_state(self, state: dict[str, Any]) -> None:
        write_json(self.pack_state_path, state)

    def load_pack_state(self) -> dict[str, Any]:
        return read_json(self.pack_state_path) if self.pack_state_path.is_file() else {}

    def save_data_report(self, report: dict[str, Any]) -> None:
        write_json(self.data_report_path, report)

    def load_data_report(self) -> dict[str, Any]:
        return read_json(self.data_report_path) if self.data_report_path.is_file() else {}

    def save_redaction_audit(self, audit: dict[str, Any]) -> None:
        write_json(self.redaction_audit_path, audit)

    def load_redaction_audit(self) -> dict[str, Any] | None:
        return read_json(self.redaction_audit_path) if self.redaction_audit_path.is_file() else None

    def save_splits(self, splits: dict[str, list[Example]]) -> None:
        for name, examples in splits.items():
            write_jsonl(self.split_path(name), (_example_row(e) for e in examples))

    def has_split(self, name: str) -> bool:
        return self.split_path(name).is_file()

    def load_split(self, name: str) -> list[Example]:
        path = self.split_path(name)
        if not path.is_file():
            raise RunError(f"{self.path}: split '{name}' missing ({path})")
        out = []
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                prompt = tuple(row["prompt"]) if row.get("prompt") else None
                out.append(Example(**{**row, "prompt": prompt}))
        return out

    # -- training artefacts ---------------------------------------------------------------------------------
    def save_adapter(self, model: Any, tokenizer: Any, *, base_model: str) -> Path:
        """PEFT adapter + tokenizer + the exact chat template it was trained with, written atomically."""
        with atomic_path(self.adapter_dir, directory=True) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "chat_template.jinja").write_text(tokenizer.chat_template, encoding="utf-8")
            (tmp / "vft_base_model.json").write_text(json.dumps({"base_model": base_model}) + "\n", encoding="utf-8")
        return self.adapter_dir

    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").is_file()

    def last_checkpoint(self) -> Path | None:
        if not self.checkpoints_dir.is_dir():
            return None
        done = [p for p in self.checkpoints_dir.glob("checkpoint-*") if (p / "trainer_state.json").is_file()]
        return max(done, key=lambda p: int(p.name.split("-")[-1])) if done else None

    def read_train_log(self) -> list[dict[str, Any]]:
        return _read_jsonl(self.train_log_path)

    # -- predictions ----------------------------------------------------------------------------------------
    def write_predictions(self, system: str, rows: Iterable[dict[str, Any]]) -> Path:
        return write_jsonl(self.predictions_path(system), rows)

    def read_predictions(self, system: str) -> list[dict[str, Any]]:
        return _read_jsonl(self.predictions_path(system))

    def prediction_systems(self) -> list[str]:
        return sorted(p.stem for p in self.predictions_dir.glob("*.jsonl")) if self.predictions_dir.is_dir() else []

    def plots(self) -> list[Path]:
        return sorted(self.plots_dir.glob("*.png")) if self.plots_dir.is_dir() else []

    # -- results.json ---------------------------------------------------------------------------------------
    def read_results(self) -> RunResults:
        if not self.results_path.is_file():
            return RunResults()
        return RunResults.model_validate(read_json(self.results_path))

    def update_results(self, change: Callable[[RunResults], None]) -> RunResults:
        """Read results.json, apply `change`, validate and write it back atomically: the one writer of the file."""
        results = self.read_results()
        change(results)
        results = RunResults.model_validate(results.model_dump(mode="json", warnings=False))
        write_json(self.results_path, results.model_dump(mode="json", exclude_none=False))
        return results


def _example_row(ex: Example) -> dict[str, Any]:
    row = dataclasses.asdict(ex)
    row["prompt"] = list(ex.prompt) if ex.prompt is not None else None
    return row


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0
