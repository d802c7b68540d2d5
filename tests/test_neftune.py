"""`training.neftune_noise_alpha`: noisy input embeddings while training (trl/transformers' NEFTune), off by default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import TrainingSettings, build_config
from core.train import sft_config


def test_the_noise_is_off_by_default_and_reaches_trls_config(tmp_path):
    assert TrainingSettings().neftune_noise_alpha is None
    on = sft_config(TrainingSettings(neftune_noise_alpha=5), tmp_path, seed=0, precision="fp32", has_dev=False)
    off = sft_config(TrainingSettings(), tmp_path, seed=0, precision="fp32", has_dev=False)
    assert on.neftune_noise_alpha == 5 and off.neftune_noise_alpha is None


def test_a_non_positive_noise_is_rejected():
    with pytest.raises(ValueError, match="neftune_noise_alpha"):
        TrainingSettings(neftune_noise_alpha=0)


def _losses(run: Path) -> list[float]:
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    return [e["loss"] for e in events if "loss" in e and "eval_loss" not in e]


def test_the_noise_changes_training_and_is_recorded_in_the_run(tiny_model, clause_file, tmp_path):
    """Same seed, data and steps: only the noise differs, so the logged losses differ, and the run's saved config
    holds the setting (a resume trains with the same noise)."""
    import yaml

    from core.pipeline import train_and_evaluate

    runs = {}
    for name, alpha in (("plain", None), ("noisy", 50.0)):
        cfg = build_config(
            overrides={"pack": "legal", "data": str(clause_file), "base_model": str(tiny_model),
                       "output_dir": str(tmp_path / name), "max_length": 256, "max_steps": 4, "logging_steps": 1,
                       "save_steps": 10**6, "eval_steps": 10**6, "test_fraction": 0.25,
                       "training": {"neftune_noise_alpha": alpha}}
        )  # fmt: skip
        runs[name] = train_and_evaluate("legal", cfg, name=name, evaluate=False)
    plain, noisy = _losses(runs["plain"]), _losses(runs["noisy"])
    assert plain and noisy and plain != noisy
    saved = yaml.safe_load((runs["noisy"] / "config.yaml").read_text())
    assert saved["training"]["neftune_noise_alpha"] == 50.0
