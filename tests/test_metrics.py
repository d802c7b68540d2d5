import pytest

from core import metrics


def test_classification_hand_computed():
    labels = ["A", "B", "C"]
    out = metrics.classification(["A", "B", None, "A"], ["A", "B", "B", "C"], labels)
    assert out["accuracy"] == pytest.approx(0.5)
    # A: p=1/2 r=1 f=2/3; B: p=1 r=1/2 f=2/3; C: 0 -> macro over A,B,C = 4/9
    assert out["macro_f1"] == pytest.approx(4 / 9)
    assert out["invalid_rate"] == pytest.approx(0.25)
    cm = out["confusion_matrix"]
    assert cm["labels"][-1] == metrics.INVALID and cm["matrix"][1][3] == 1  # B predicted as invalid


def test_label_anywhere_is_not_accuracy():
    out = metrics.classification(["A or B"], ["A"], ["A", "B"])
    assert out["accuracy"] == 0.0


def test_field_f1_lists_scalars_missing_and_malformed():
    refs = [{"age": 62, "meds": ["Aspirin", "metformin"]}, {"age": 40, "meds": []}, {"age": 30, "meds": ["x"]}]
    preds = [{"age": "62", "meds": ["metformin", "aspirin", "ibuprofen"]}, {"age": 41, "meds": [], "extra": 1}, None]
    out = metrics.field_f1(preds, refs, ["age", "meds"])
    age, meds = out["per_field"]["age"], out["per_field"]["meds"]
    assert (age["precision"], age["recall"]) == pytest.approx((1 / 2, 1 / 3))
    assert (meds["precision"], meds["recall"]) == pytest.approx((2 / 3, 2 / 3))
    assert out["micro"]["precision"] == pytest.approx(3 / 5) and out["micro"]["recall"] == pytest.approx(3 / 6)


def test_parse_rate_and_rouge():
    assert metrics.parse_rate([None, "a", "b", None]) == 0.5
    r = metrics.rouge(["the cat sat", None], ["the cat sat", "a dog"])
    assert r["rouge1"] == pytest.approx(0.5) and r["rougeL"] == pytest.approx(0.5)


def test_span_f1():
    ref = [["B-PER", "I-PER", "O", "B-LOC"]]
    pred = [["B-PER", "I-PER", "O", "O"]]
    out = metrics.span_f1(pred, ref)
    assert out["precision"] == 1.0 and out["recall"] == 0.5


def test_json_valid_rate_needs_the_outer_object_complete():
    truncated = '{"form": {"age": 3}, "meds": [{"name": "aspirin"}, {"name": "asp'
    assert metrics.json_valid_rate(['Here: {"a": 1} done', '{"a": [1, 2]}', truncated, "no json"]) == 0.5
