"""The fine-tuned model pooled with the classical baseline (`tuned+classical`): the pool's arithmetic, the weight
chosen on dev, and every held-out row equal to the pool of the two systems' own probabilities."""

from __future__ import annotations

import pytest

from core.pooled import TUNED_WEIGHTS, pool


def test_the_pool_is_either_model_at_the_ends_and_a_distribution_between():
    tuned = {"a": 0.7, "b": 0.2, "c": 0.1}
    classical = {"a": 0.1, "b": 0.8, "c": 0.1}
    assert pool(tuned, classical, 1.0) == pytest.approx(tuned)
    assert pool(tuned, classical, 0.0) == pytest.approx(classical)
    even = pool(tuned, classical, 0.5)
    assert sum(even.values()) == pytest.approx(1.0)
    assert max(even, key=even.get) == "b"  # sqrt(0.2 * 0.8) > sqrt(0.7 * 0.1)


def test_a_label_one_model_never_gives_is_still_ranked_by_the_other():
    pooled = pool({"a": 0.6, "b": 0.4}, {"a": 0.5, "b": 0.3, "c": 0.2}, 1.0)
    assert set(pooled) == {"a", "b", "c"} and pooled["c"] < 1e-6


def test_the_pooled_system_uses_its_dev_weight_on_both_systems_own_probabilities(run_copy):
    from core.evaluation import evaluate_run

    results = evaluate_run(run_copy, systems=["classical", "tuned+scored", "tuned+classical"], show_progress=False)
    described = results.systems["tuned+classical"].system
    weight = described["tuned_weight"]
    assert weight in TUNED_WEIGHTS and described["weights"] == "tuned"
    if "tuned_weight_scores" in described:  # chosen on dev: the kept weight has the best dev headline
        assert described["tuned_weight_scores"][str(weight)] == max(described["tuned_weight_scores"].values())
    tuned = {r["id"]: r["probabilities"] for r in run_copy.read_predictions("tuned+scored")}
    classical = {r["id"]: r["probabilities"] for r in run_copy.read_predictions("classical")}
    rows = run_copy.read_predictions("tuned+classical")
    assert len(rows) == len(tuned) > 0
    for row in rows:
        expected = pool(tuned[row["id"]], classical[row["id"]], weight)
        assert row["probabilities"] == pytest.approx(expected)
        assert sum(row["probabilities"].values()) == pytest.approx(1.0)
        assert row["parsed"] == max(expected, key=expected.get)


def test_answers_reused_from_another_system_count_in_the_reusing_systems_time():
    """tuned+scored after tuned+classical reuses its label scores: it must not look faster for coming second."""
    from core.evaluation import run_system
    from core.systems import Answer, System

    class Reusing(System):
        name = "reusing"

        @property
        def uses_model(self) -> bool:
            return False

        def describe(self):
            return {}

        def answer(self, ctx, examples):
            return [Answer("a", 1.5, reused_seconds=1.5) for _ in examples]

    from types import SimpleNamespace

    ctx = SimpleNamespace(progress=None)
    run = run_system(Reusing(), ctx, ["x", "y"], label="reusing", show=False)  # type: ignore[arg-type]
    assert run.seconds >= 3.0


def test_the_pooled_system_counts_the_fine_tuned_scores_it_reused(run_copy):
    from core.evaluation import evaluate_run

    results = evaluate_run(run_copy, systems=["tuned+scored", "tuned+classical"], show_progress=False)
    tuned_seconds = results.systems["tuned+scored"].cost["seconds"]
    pooled_seconds = results.systems["tuned+classical"].cost["seconds"]
    assert pooled_seconds >= 0.5 * tuned_seconds > 0
