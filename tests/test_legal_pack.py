import csv
import json

import pytest

from core.errors import ParseError
from core.pack import available_packs, get_pack
from tests.conftest import SHARED_DATA, write_jsonl


@pytest.fixture
def pack():
    p = get_pack("legal")
    p.definitions = {"Governing Law": "law", "Anti-Assignment": "assign", "Cap on Liability": "cap"}
    return p


def test_registered_through_entry_point():
    assert "legal" in available_packs()


@pytest.mark.parametrize(
    "text, label",
    [
        ('{"label": "Governing Law"}', "Governing Law"),
        ('Sure! ```json\n{"label": "governing   law"}\n```', "Governing Law"),
        ('{"label": "anti_assignment"}', "Anti-Assignment"),
        ('{"label": "Limitation of Liability"}', "Cap on Liability"),
        ("Governing Law", "Governing Law"),
    ],
)
def test_parse_normalises(pack, text, label):
    assert pack.parse(text) == label


@pytest.mark.parametrize("text", ['{"label": "Insurance"}', "I think it is Governing Law", '{"type": "x"}', ""])
def test_parse_rejects_outside_set(pack, text):
    with pytest.raises(ParseError):
        pack.parse(text)


def test_prompt_lists_labels_and_targets_parse(pack):
    prompt = pack.system_prompt()
    assert all(f"- {lab}: " in prompt for lab in pack.labels)
    assert all(pack.parse(t) == lab for t, lab in zip(pack.allowed_outputs(), pack.labels, strict=True))


def test_unseen_test_label_reported(tmp_path):
    from core.data import prepare_splits

    rows = [
        {"text": f"clause number {i} about law", "label": "A" if i % 2 else "B", "split": "train"} for i in range(10)
    ]
    rows.append({"text": "a new kind of clause", "label": "Z", "split": "test"})
    p = get_pack("legal")
    splits = prepare_splits(p, write_jsonl(tmp_path / "d.jsonl", rows), eval_fraction=0, test_fraction=0, seed=0)
    summary = p.data_summary({"train": splits.train, "test": splits.test})
    assert summary["labels_not_in_label_set"] == {"test": ["Z"]}
    assert p.labels == ["A", "B"]


def test_labels_file_with_definitions(tmp_path):
    f = tmp_path / "labels.csv"
    f.write_text("label,definition\nA,first kind\nB,second kind\n")
    p = get_pack("legal", {"labels_file": str(f)})
    assert p.definitions == {"A": "first kind", "B": "second kind"}


CUAD = SHARED_DATA / "legal" / "cuad" / "master_clauses.csv"


@pytest.mark.skipif(not CUAD.is_file(), reason="shared CUAD data not present")
def test_cuad_importer_on_real_slice(tmp_path):
    from core.data import split_examples

    with CUAD.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        rows = [next(reader) for _ in range(41)]  # header + 40 contracts
    slice_path = tmp_path / "master_clauses.csv"
    with slice_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    p = get_pack("legal", {"cuad_top_k": 5})
    for policy in ("drop", "first"):
        p = get_pack("legal", {"cuad_top_k": 5, "cuad_multi_category": policy})
        result = p.load(slice_path)
        assert result.rows_read == 40
        assert len({e.reference for e in result.examples}) == 5
        assert result.counts.get("clauses_with_several_categories", 0) > 0
        if policy == "drop":
            dropped = result.counts["dropped_multi_category"]
        else:
            assert result.counts["multi_category_kept_first"] == dropped
            assert len(result.examples) > 0
    assert all(json.loads(e.target)["label"] == e.reference for e in result.examples)
    train, dev, test, _ = split_examples(result.examples, eval_fraction=0.1, test_fraction=0.3, seed=0)
    contracts = [{e.group for e in part} for part in (train, dev, test)]
    assert not (contracts[0] & contracts[2]) and not (contracts[0] & contracts[1])


def test_bundled_sample_loads():
    p = get_pack("legal")
    result = p.load(p.sample_data_path())
    assert len(result.examples) == 300 and len(p.labels) == 10


@pytest.mark.parametrize("mode, per_class", [("oversample", 8), ("undersample", 2)])
def test_class_balanced_sampling_is_counted(tmp_path, mode, per_class):
    from collections import Counter

    from core.data import prepare_splits

    rows = [{"text": f"clause {i} of kind A", "label": "A", "split": "train"} for i in range(8)]
    rows += [{"text": f"clause {i} of kind B", "label": "B", "split": "train"} for i in range(2)]
    p = get_pack("legal", {"balance": mode})
    splits = prepare_splits(p, write_jsonl(tmp_path / "d.jsonl", rows), eval_fraction=0, test_fraction=0, seed=1)
    assert Counter(e.reference for e in splits.train) == {"A": per_class, "B": per_class}
    assert splits.report["train_before_balance"] == 10 and splits.report["train_after_balance"] == 2 * per_class


def test_unknown_balance_mode_is_named():
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"option 'balance'.*'none', 'oversample' or 'undersample'.*got 'yes'"):
        get_pack("legal", {"balance": "yes"})


def test_misspelled_option_is_an_error_that_lists_the_valid_ones():
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown option 'lable_column' \(did you mean 'label_column'\?\)") as err:
        get_pack("legal", {"lable_column": "type"})
    assert "cuad_top_k" in str(err.value) and "text_column" in str(err.value)
    assert get_pack("legal", {"label_column": "type"}).options.label_column == "type"


def test_multi_label_parse_target_and_metrics(tmp_path):
    from core import metrics

    rows = [{"text": f"clause {i}", "label": "A;B" if i % 2 else "B"} for i in range(6)]
    p = get_pack("legal", {"multi_label": True})
    result = p.load(write_jsonl(tmp_path / "m.jsonl", rows))
    p.fit(result.examples)
    assert result.examples[1].reference == ["A", "B"] and json.loads(result.examples[1].target) == {
        "labels": ["A", "B"]
    }
    assert p.parse('{"labels": ["b", "a"]}') == ["A", "B"]
    with pytest.raises(ParseError):
        p.parse('{"labels": ["A", "Z"]}')
    assert p.allowed_outputs() is None and p.output_json_schema()["properties"]["labels"]["items"]["enum"] == ["A", "B"]
    out = metrics.multilabel_classification([["A", "B"], ["B"], None], [["A", "B"], ["A", "B"], ["B"]], ["A", "B"])
    assert out["accuracy"] == pytest.approx(1 / 3)
    # A: tp1 fn1 fp0 -> f1 2/3; B: tp2 fn1 fp0 -> f1 0.8
    assert out["macro_f1"] == pytest.approx((2 / 3 + 0.8) / 2)


@pytest.mark.skipif(not CUAD.is_file(), reason="shared CUAD data not present")
def test_cuad_multi_policy_keeps_label_sets(tmp_path):
    with CUAD.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        rows = [next(reader) for _ in range(41)]
    slice_path = tmp_path / "master_clauses.csv"
    with slice_path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    p = get_pack("legal", {"cuad_top_k": 5, "cuad_multi_category": "multi"})
    result = p.load(slice_path)
    multi = [e for e in result.examples if len(e.reference) > 1]
    counts = result.counts
    assert p.multi_label and multi
    assert counts["multi_category_kept_as_label_set"] == counts["clauses_with_several_categories"] >= len(multi)
    assert all(json.loads(e.target)["labels"] == e.reference for e in result.examples)
