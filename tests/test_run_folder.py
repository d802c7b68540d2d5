"""The run folder has one owner: its file names are spelled in core/run_folder.py only, and results.json is written
only through RunFolder.update_results, validated against the schema in core/results.py."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from core.run_folder import RunFolder

ROOT = Path(__file__).resolve().parents[1]
NAMES = {
    RunFolder.CONFIG, RunFolder.DATA_REPORT, RunFolder.PACK_STATE, RunFolder.REDACTION_AUDIT, RunFolder.TRAIN_LOG,
    RunFolder.RESULTS, RunFolder.REPORT_MD, RunFolder.REPORT_HTML, "predictions", "checkpoints", "plots",
    "chat_template.jinja", "train.jsonl", "test.jsonl", "dev.jsonl",
}  # fmt: skip


def test_run_folder_file_names_are_spelled_in_one_module():
    found = []
    for package in ("core", "verticals", "demos", "bench", "redaction"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "core" / "run_folder.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and node.value in NAMES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert not found, found


def test_results_json_validates_against_its_schema(small_run):
    from core.results import RunResults, results_json_schema

    raw = json.loads((small_run / RunFolder.RESULTS).read_text())
    results = RunResults.model_validate(raw)  # extra top-level keys would fail: the schema is closed
    assert results.pack == "legal" and results.headline_metric == "macro_f1" and results.training is not None
    assert set(results.systems) >= {"zero_shot", "tuned", "tuned+constrained"}
    for scores in results.systems.values():
        assert scores.headline == getattr(scores, "macro_f1") and scores.system  # noqa: B009
    assert results.evaluation and "held-out" in results.evaluation["examples"]
    assert results.evaluation["wall_seconds"] > 0  # the whole evaluation, timed (issue 23's <= 10 min is on it)
    schema = results_json_schema()
    assert set(raw) <= set(schema["properties"])


def test_update_results_refuses_what_the_schema_does_not_know(tmp_path):
    from pydantic import ValidationError

    folder = RunFolder(tmp_path)
    folder.update_results(lambda r: setattr(r, "pack", "legal"))
    assert json.loads(folder.results_path.read_text())["pack"] == "legal"
    with pytest.raises(ValidationError):
        folder.update_results(lambda r: setattr(r, "test_examples", "many"))
    assert json.loads(folder.results_path.read_text())["test_examples"] is None  # the file was left as it was


def test_open_refuses_a_folder_that_is_not_a_run(tmp_path):
    from core.errors import RunError

    with pytest.raises(RunError, match="not a run folder"):
        RunFolder.open(tmp_path)
