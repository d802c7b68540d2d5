"""`training.max_minutes`: the step time is measured on this machine and max_steps lowered to fit."""

from __future__ import annotations

import json

import pytest
import yaml

from core.config import build_config
from core.errors import ConfigError
from core.train_budget import BudgetFit


def _cfg(tiny_model, clause_file, tmp_path, budget):
    return build_config(
        overrides={"pack": "legal", "data": str(clause_file), "base_model": str(tiny_model),
                   "output_dir": str(tmp_path / "runs"), "max_length": 256, "epochs": 1000, "save_steps": 10**6,
                   "eval_steps": 10**6, "test_fraction": 0.25, "max_minutes": budget}
    )  # fmt: skip


def test_a_budget_shortens_training_and_the_run_keeps_the_fitted_steps(tiny_model, clause_file, tmp_path):
    from core.pipeline import train_and_evaluate

    # 1,000 epochs are thousands of steps; three seconds hold far fewer, whatever this machine's speed
    run = train_and_evaluate("legal", _cfg(tiny_model, clause_file, tmp_path, 0.05), name="b", evaluate=False)
    training = json.loads((run / "results.json").read_text())["training"]
    budget = training["time_budget"]
    assert budget["shortened"] and 1 <= budget["fitted_steps"] < budget["planned_steps"]
    assert training["global_step"] == budget["fitted_steps"]
    assert budget["seconds_per_step"] > 0 and budget["epochs"] < 1000
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert saved["training"]["max_steps"] == budget["fitted_steps"]  # a resume builds the same schedule
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    assert any(e.get("event") == "time_budget" for e in events)
    assert "training shortened to" in (run / "report.md").read_text()


def test_a_budget_that_holds_no_step_is_a_clear_error(tiny_model, clause_file, tmp_path):
    from core.pipeline import train_and_evaluate

    with pytest.raises(ConfigError, match="fits no optimizer step"):
        train_and_evaluate("legal", _cfg(tiny_model, clause_file, tmp_path, 1e-6), name="c", evaluate=False)


def test_the_budget_record_reads_back_and_says_what_happened():
    fit = BudgetFit(budget_minutes=8, seconds_per_step=16.5, seconds_per_eval=12.0, probe_seconds=25.0,
                    steps_per_epoch=34, planned_steps=68, fitted_steps=27)  # fmt: skip
    again = BudgetFit.from_json(json.loads(json.dumps(fit.to_json())))
    assert again == fit and again.epochs == 0.79
    assert again.message().endswith("training shortened to 27 of 68 planned steps (0.79 epochs)")
    whole = BudgetFit(8, 7.0, 0.0, 10.0, 34, 68, 68)
    assert not whole.shortened and whole.message().endswith("all 68 planned steps fit")


def test_the_budget_must_be_positive():
    with pytest.raises(ConfigError, match="max_minutes"):
        build_config(overrides={"max_minutes": 0})


def test_the_probe_leaves_no_trace_in_trainings_token_count_or_metrics(tiny_trainer):
    from core.train_budget import time_passes

    trainer = tiny_trainer.trainer
    before = trainer._total_train_tokens
    seconds = time_passes(trainer, 2)
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
    assert trainer._total_train_tokens == before and not trainer._metrics["train"]
