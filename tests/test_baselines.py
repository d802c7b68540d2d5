"""The simple alternatives every run is measured against: the classical model (TF-IDF + logistic regression, C
chosen on dev, probabilities kept), the nearest training example, and cleanlab's list of suspect labels."""

from __future__ import annotations

import pytest

from core.pack import Example, get_pack
from tests.conftest import LABELS, PLACES, TEMPLATES


def test_classical_and_nearest_are_scored_like_any_system(run_copy):
    from core.evaluation import evaluate_run

    results = evaluate_run(run_copy, systems=["classical", "nearest"], show_progress=False)
    classical, nearest = results.systems["classical"], results.systems["nearest"]
    assert classical.system["tier"] == "classical" and classical.system["C"] in (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
    assert "C_chosen_on" in classical.system and classical.parse_rate == 1.0 and nearest.parse_rate == 1.0
    assert classical.cost["examples_per_second"] > 100  # seconds, not minutes
    rows = run_copy.read_predictions("classical")
    for row in rows:
        assert sum(row["probabilities"].values()) == pytest.approx(1.0)
        assert row["parsed"] == max(row["probabilities"], key=row["probabilities"].get)
    train = {ex.id: ex for ex in run_copy.load_split("train")}
    from core.fewshot import Retriever

    retriever = Retriever(list(train.values()))
    test = {ex.id: ex for ex in run_copy.load_split("test")}
    for row in run_copy.read_predictions("nearest"):
        assert row["raw"] == retriever.nearest(test[row["id"]].text, 1)[0].target
    assert results.verdict and results.verdict["ship"] in results.systems


def test_classical_learns_the_fixture_task():
    """On clause templates a bag of words separates perfectly: the baseline must see that."""
    from core.baselines import ClassicalSystem

    pack = get_pack("legal")
    train = [
        Example(f"{lab}-{p}", TEMPLATES[lab].format(p), pack.target(lab) if pack.labels else "", lab)
        for lab in LABELS
        for p in PLACES[:8]
    ]
    pack.fit(train)
    dev = [Example(f"d-{lab}-{p}", TEMPLATES[lab].format(p), "", lab) for lab in LABELS for p in PLACES[8:10]]
    model, _ = ClassicalSystem().fit(pack, train, dev, seed=0)
    test = [TEMPLATES[lab].format(p) for lab in LABELS for p in PLACES[10:]]
    assert list(model.predict(test)) == [lab for lab in LABELS for _ in PLACES[10:]]


def test_nearest_copy_gets_the_products_own_name():
    pack = get_pack("ecommerce")
    attrs = {"description": "", "attributes": {"name": "Orion Tee"}}
    this = Example("a", "Name: Orion Tee\nMaterial: Cotton", "", attrs)
    other = Example("b", "Name: Vega Tank\nMaterial: Cotton", "The Vega Tank is soft. Wear the vega tank anywhere.", {})
    assert pack.nearest_answer(this, other) == "The Orion Tee is soft. Wear the Orion Tee anywhere."


def test_label_issues_flag_a_flipped_label():
    from core.label_issues import find_label_issues

    rows = [
        Example(f"{lab[:3]}-{p}", TEMPLATES[lab].format(p), "", lab) for lab in LABELS for p in PLACES
    ]  # 12 per label
    flipped = Example("flip", TEMPLATES["Governing Law"].format("Oregon"), "", "Anti-Assignment")
    report = find_label_issues([*rows, flipped], seed=0)
    assert report["suspects"][0]["id"] == "flip" and report["suspects"][0]["suggested"] == "Governing Law"
    assert "nothing was dropped" in report["note"]
    assert "skipped" in find_label_issues(rows[:1] + rows[12:13], seed=0)


def test_time_budget_scores_a_seeded_sample_and_says_so(run_copy):
    """A budget the measured speed cannot meet: the model systems stop after their first examples, every system is
    scored on the same examples, and results say how many and why."""
    from core.evaluation import evaluate_run

    cfg = run_copy.load_config()
    cfg.evaluation.time_budget_minutes = 0.0001
    cfg.evaluation.eval_batch_size = 2
    cfg.evaluation.max_eval_examples = None
    cfg.evaluation.systems = ["zero_shot", "nearest"]
    run_copy.save_config(cfg)
    results = evaluate_run(run_copy, show_progress=False)
    held_out = len(run_copy.load_split("test"))
    assert results.evaluation["held_out"] == held_out and results.test_examples == 8 < held_out
    assert "seeded sample of 8" in results.evaluation["examples"] and "budget" in results.evaluation["examples"]
    ids = {name: [r["id"] for r in run_copy.read_predictions(name)] for name in ("zero_shot", "nearest")}
    assert ids["zero_shot"] == ids["nearest"] and len(ids["nearest"]) == 8
