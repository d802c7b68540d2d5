"""The paired bootstrap against hand-computed cases, and the verdict rule on constructed results: classical wins,
fine-tuned wins, a tie goes to the cheaper system."""

from __future__ import annotations

import numpy as np
import pytest

from core.stats import Bootstrap, macro_f1_scorer, mean_scorer, paired_bootstrap, ratio_scorer
from core.verdict import Candidate, decide


def test_bootstrap_distribution_of_a_mean_matches_the_binomial():
    """Accuracy [1, 1, 0]: a resample's mean is Binomial(3, 2/3) / 3, so P(1) = 8/27, P(2/3) = 12/27,
    P(1/3) = 6/27, P(0) = 1/27; the 95% interval is [0, 1]."""
    boot = paired_bootstrap({"a": mean_scorer([1, 1, 0])}, 3, resamples=20_000, seed=1)
    values, counts = np.unique(np.round(boot.samples["a"], 6), return_counts=True)
    share = dict(zip(values.tolist(), (counts / counts.sum()).tolist(), strict=True))
    expected = {0.0: 1 / 27, round(1 / 3, 6): 6 / 27, round(2 / 3, 6): 12 / 27, 1.0: 8 / 27}
    for value, p in expected.items():
        assert share[value] == pytest.approx(p, abs=0.01)
    interval = boot.interval("a")
    assert (interval.estimate, interval.low, interval.high) == pytest.approx((2 / 3, 0.0, 1.0))


def test_paired_difference_of_an_always_better_system_is_exact():
    """A right everywhere, B wrong everywhere: every resample gives A - B = 1, so the interval is [1, 1]."""
    boot = paired_bootstrap({"a": mean_scorer([1] * 10), "b": mean_scorer([0] * 10)}, 10, resamples=500, seed=0)
    diff = boot.difference("a", "b")
    assert (diff.estimate, diff.low, diff.high) == (1.0, 1.0, 1.0) and diff.excludes_zero


def test_paired_resampling_cancels_shared_noise():
    """Two systems that differ on one example only: unpaired intervals overlap widely, the paired difference is
    never negative."""
    a = [1, 0, 1, 1, 0, 1, 0, 1, 1, 0] * 3
    b = list(a)
    b[0] = 0
    boot = paired_bootstrap({"a": mean_scorer(a), "b": mean_scorer(b)}, len(a), resamples=2000, seed=3)
    assert boot.difference("a", "b").low >= 0.0 and boot.interval("b").high > boot.interval("a").low


def test_fast_scorers_equal_the_metrics_they_stand_for():
    from core import metrics

    rng = np.random.default_rng(0)
    labels = ["A", "B", "C", "D"]
    refs = list(rng.choice(labels[:3], 60))
    preds = [None if rng.random() < 0.1 else str(rng.choice([*labels, "Z"])) for _ in refs]
    fast = macro_f1_scorer(preds, refs, labels)
    for _ in range(20):
        idx = rng.integers(0, len(refs), len(refs))
        slow = metrics.classification([preds[i] for i in idx], [refs[i] for i in idx], labels)["macro_f1"]
        assert fast(idx) == pytest.approx(slow)
    tp, fp, fn = [3, 0, 1], [1, 2, 0], [0, 1, 4]
    assert ratio_scorer(tp, fp, fn)(np.array([0, 2])) == pytest.approx(2 * 4 / (2 * 4 + 1 + 4))


def test_clinical_fast_scorer_equals_micro_f1():
    from core.pack import get_pack

    pack = get_pack("clinical")
    refs = [
        pack.validate_form({"age": 50, "sex": "male", "symptoms": ["cough", "fever"], "allergies": []}),
        pack.validate_form({"chief_complaint": "back pain", "medications": [{"name": "ibuprofen", "dose": "400 mg"}]}),
        pack.validate_form({"age": 31, "vitals": {"heart_rate": 80, "blood_pressure": "120/80"}}),
    ]
    preds = [
        pack.validate_form({"age": 50, "sex": "female", "symptoms": ["cough"]}),
        None,
        pack.validate_form({"age": 31, "vitals": {"heart_rate": 80, "blood_pressure": "130/80"}, "symptoms": ["x"]}),
    ]
    fast = pack.headline_scorer(preds, refs)
    for idx in ([0, 1, 2], [0, 0, 2], [2, 1, 1]):
        slow = pack.metrics([preds[i] for i in idx], [refs[i] for i in idx])["micro_f1"]
        assert fast(np.array(idx)) == pytest.approx(slow)


def _boot(scores: dict[str, list[int]], seed: int = 0) -> Bootstrap:
    n = len(next(iter(scores.values())))
    return paired_bootstrap({k: mean_scorer(v) for k, v in scores.items()}, n, resamples=2000, seed=seed)


CANDIDATES = [
    Candidate("nearest", 0, False, 1000.0),
    Candidate("classical", 1, False, 500.0),
    Candidate("few_shot", 3, False, 1.0),
    Candidate("tuned", 4, True, 2.0),
    Candidate("tuned+constrained", 4, True, 1.0),
]


def test_classical_wins_and_fine_tuning_is_not_needed():
    def right(k: int) -> list[int]:
        return [1] * k + [0] * (200 - k)

    boot = _boot(
        {"nearest": right(80), "classical": right(180), "few_shot": right(100), "tuned": right(120),
         "tuned+constrained": right(124)}
    )  # fmt: skip
    v = decide(CANDIDATES, boot, "accuracy")
    assert v["ship"] == "classical" and v["fine_tuning"] == "not needed" and v["runner_up"] == "tuned+constrained"
    assert v["sentence"].startswith("classical wins: accuracy 0.9") and "fine-tuning is not needed" in v["sentence"]


def test_fine_tuned_wins():
    correct = [1] * 90 + [0] * 10
    boot = _boot(
        {
            "nearest": [0] * 100,
            "classical": [1] * 40 + [0] * 60,
            "few_shot": [1] * 30 + [0] * 70,
            "tuned": [1] * 85 + [0] * 15,
            "tuned+constrained": correct,
        }
    )
    v = decide(CANDIDATES, boot, "accuracy")
    assert v["fine_tuning"] == "worth it" and v["runner_up"] == "classical"
    assert v["ship"] in ("tuned", "tuned+constrained") and "fine-tuning is worth it" in v["sentence"]


def test_a_win_inside_the_noise_is_a_tie_and_the_cheaper_system_ships():
    base = np.array([0, 0] + [1] * 27 + [0] * 11)
    tuned = base.copy()
    tuned[:2] = 1  # two more right answers out of 40: P(a resample misses both) = (38/40)^40 = 0.13 > 0.025
    boot = _boot({"classical": list(base), "tuned": list(tuned)})
    v = decide([CANDIDATES[1], CANDIDATES[3]], boot, "accuracy")
    assert v["best"] == "tuned" and v["tied_with_best"] == ["classical"]
    assert v["ship"] == "classical" and v["fine_tuning"] == "not needed" and "ties tuned" in v["sentence"]
