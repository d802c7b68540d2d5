"""`vft assess`: the "evaluate necessity" step before any training, on the tiny model."""

from __future__ import annotations

import json

from core.config import build_config
from tests.conftest import clause_rows, run_vft, write_jsonl


def test_assess_scores_the_baselines_and_estimates_training(tiny_model, tmp_path):
    from core.assess import assess

    data = write_jsonl(tmp_path / "clauses.jsonl", clause_rows())
    cfg = build_config(
        overrides={"pack": "legal", "data": str(data), "base_model": str(tiny_model), "output_dir": str(tmp_path),
                   "max_length": 256, "test_fraction": 0.25, "eval_batch_size": 8, "epochs": 2}
    )  # fmt: skip
    run = assess("legal", cfg, name="a", target=0.9, show_progress=False)
    results = json.loads((run / "results.json").read_text())
    assert {"zero_shot", "few_shot", "classical", "nearest"} <= set(results["systems"])
    assert not any(name.startswith("tuned") for name in results["systems"])
    assert not (run / "adapter").exists()  # nothing was fine-tuned
    a = results["assessment"]
    assert a["decision"] in ("worth trying", "not needed") and a["target"] == 0.9
    estimate = a["training_estimate"]
    assert estimate["seconds_per_step"] > 0 and estimate["planned_steps"] >= 1
    assert estimate["estimated_training_minutes"] >= 0
    # the bag-of-words baseline separates the fixture's templates: nothing left for fine-tuning to win
    assert results["systems"]["classical"]["headline"] == 1.0 and a["decision"] == "not needed"
    assert (run / "report.md").read_text().startswith("# Run report: a\n\n> **Assessment: fine-tuning not needed")
    data_report = json.loads((run / "data_report.json").read_text())
    assert "label_issues" in data_report


def test_assess_on_the_command_line(tiny_model, tmp_path):
    data = write_jsonl(tmp_path / "clauses.jsonl", clause_rows())
    out = run_vft(
        "assess", "legal", "--data", str(data), "--base-model", str(tiny_model), "--output-dir", str(tmp_path),
        "--name", "cli", "--set", "max_length=256", "--set", "systems=[zero_shot,classical,nearest]",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert "fine-tuning not needed" in " ".join(out.stdout.split())


def test_assess_estimates_the_steps_a_training_budget_allows(tiny_model, tmp_path):
    from core.assess import assess

    data = write_jsonl(tmp_path / "clauses.jsonl", clause_rows())
    cfg = build_config(
        overrides={"pack": "legal", "data": str(data), "base_model": str(tiny_model), "output_dir": str(tmp_path),
                   "max_length": 256, "test_fraction": 0.25, "epochs": 1000, "max_minutes": 0.05,
                   "systems": ["classical", "nearest"]}
    )  # fmt: skip
    run = assess("legal", cfg, name="budget", target=0.9, show_progress=False)
    estimate = json.loads((run / "results.json").read_text())["assessment"]["training_estimate"]
    # 1,000 epochs are at least 1,000 steps; the estimate counts only those that fit three seconds
    assert 1 <= estimate["planned_steps"] < 1000
    assert estimate["planned_steps"] <= 3 / max(estimate["seconds_per_step"] - 0.005, 1e-3) + 1  # shown rounded
