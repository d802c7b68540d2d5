"""`training.min_steps`: a small data set trains for at least this many optimizer steps (more epochs)."""

from __future__ import annotations

import json

import yaml

from core.config import TrainingSettings, build_config
from core.train_budget import planned_steps


def test_min_steps_raises_the_epochs_steps_and_nothing_else():
    few = TrainingSettings(epochs=2, grad_accum=2, min_steps=100)
    assert planned_steps(43, few) == (22, 100)  # 44 steps from the epochs -> 100
    assert planned_steps(400, few) == (200, 400)  # enough rows: the epochs decide
    assert planned_steps(43, TrainingSettings(epochs=2, grad_accum=2)) == (22, 44)  # off by default
    assert planned_steps(43, TrainingSettings(epochs=2, grad_accum=2, min_steps=100, max_steps=7)) == (22, 7)


def test_a_small_training_set_runs_min_steps_and_the_run_keeps_them(tiny_model, clause_file, tmp_path):
    from core.pipeline import train_and_evaluate

    cfg = build_config(
        overrides={"pack": "legal", "data": str(clause_file), "base_model": str(tiny_model),
                   "output_dir": str(tmp_path / "runs"), "max_length": 256, "epochs": 1, "save_steps": 10**6,
                   "eval_steps": 10**6, "test_fraction": 0.25, "min_steps": 20}
    )  # fmt: skip
    run = train_and_evaluate("legal", cfg, name="m", evaluate=False)
    training = json.loads((run / "results.json").read_text())["training"]
    assert training["global_step"] == 20
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["training"]["max_steps"] == 20  # a resume builds the same schedule
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    [event] = [e for e in events if e.get("event") == "min_steps"]
    assert event["steps"] == 20 and event["steps_per_epoch"] < 20
