import json

import pytest

from core.data import dedup, near_duplicates, prepare_splits, read_rows, split_examples
from core.errors import DataError, DataErrors
from core.pack import Example, get_pack
from tests.conftest import write_jsonl


@pytest.fixture
def legal():
    return get_pack("legal")


def test_reads_all_formats(tmp_path, clause_file):
    import pandas as pd

    rows = [r for _, r in read_rows(clause_file)]
    pd.DataFrame(rows).to_csv(tmp_path / "c.csv", index=False)
    pd.DataFrame(rows).to_parquet(tmp_path / "c.parquet")
    (tmp_path / "c.json").write_text(json.dumps(rows))
    for name in ("c.csv", "c.parquet", "c.json"):
        assert [r["text"] for _, r in read_rows(tmp_path / name)] == [r["text"] for r in rows]


@pytest.mark.parametrize(
    "content, match, row",
    [
        (b"", "file is empty", None),
        (b'{"text": "a", "label": "b"}\n{"text": "a", "lab', "not valid JSON", 2),
        (b'{"text": "ok", "label": "x"}\n[1, 2]\n', "not a JSON object", 2),
        (b'{"text": "ok", "label": "x"}\n{"text": "caf\xe9", "label": "x"}\n', "not valid UTF-8", 2),
    ],
)
def test_bad_files_name_file_and_row(tmp_path, legal, content, match, row):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(DataError, match=match) as info:
        legal.load(path)
    assert info.value.file == str(path) and info.value.row == row


def test_missing_column_and_wrong_type_name_field(tmp_path, legal):
    path = write_jsonl(
        tmp_path / "x.jsonl",
        [{"text": "a", "label": "L"}, {"clause": "b", "label": "L"}, {"text": ["not", "text"], "label": "L"}],
    )
    with pytest.raises(DataErrors) as info:
        legal.load(path)
    errs = info.value.errors
    assert (errs[0].row, errs[0].field) == (2, "text") and "missing" in errs[0].reason
    assert (errs[1].row, errs[1].field) == (3, "text") and "expected text" in errs[1].reason
    assert "x.jsonl, row 2, field 'text'" in str(info.value)


def test_skip_invalid_counts_rows(tmp_path, legal):
    path = write_jsonl(tmp_path / "x.jsonl", [{"text": "a", "label": "L"}, {"text": "", "label": "L"}])
    result = legal.load(path, skip_invalid=True)
    assert len(result.examples) == 1 and result.counts["skipped_invalid_rows"] == 1


def test_csv_extra_cells(tmp_path, legal):
    path = tmp_path / "x.csv"
    path.write_text("text,label\nhello,A\nworld,B,extra\n")
    with pytest.raises(DataError, match="3 cells but the header has 2") as info:
        list(read_rows(path))
    assert info.value.row == 2


def test_custom_columns(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"clause": "text one", "type": "A"}, {"clause": "text two", "type": "B"}])
    pack = get_pack("legal", {"text_column": "clause", "label_column": "type"})
    assert [e.reference for e in pack.load(path).examples] == ["A", "B"]


def _ex(i, text, target="t", group=None):
    return Example(id=str(i), text=text, target=target, reference=target, group=group)


def test_dedup_counts_exact_and_conflicting():
    kept, counts = dedup([_ex(1, "a b"), _ex(2, "A  b"), _ex(3, "a b", target="other"), _ex(4, "c")])
    assert [e.id for e in kept] == ["1", "4"]
    assert counts["exact_duplicates_dropped"] == 1 and counts["conflicting_duplicates_dropped"] == 1


def test_split_is_deterministic_and_keeps_groups():
    exs = [_ex(i, f"text {i}", group=f"g{i % 17}") for i in range(300)]
    a = split_examples(exs, eval_fraction=0.1, test_fraction=0.2, seed=1)
    b = split_examples(list(reversed(exs)), eval_fraction=0.1, test_fraction=0.2, seed=1)
    assert [sorted(e.id for e in part) for part in a[:3]] == [sorted(e.id for e in part) for part in b[:3]]
    groups = [{e.group for e in part} for part in a[:3]]
    assert not (groups[0] & groups[1] or groups[0] & groups[2] or groups[1] & groups[2])


def test_near_duplicate_leakage_detected():
    train = [_ex(1, "The parties agree that the laws of Delaware govern this Agreement.")]
    other = [
        _ex(2, "The parties agree that the laws of Delaware govern this agreement!"),
        _ex(3, "Payment is due within thirty days of invoice."),
    ]
    assert near_duplicates(train, other) == [0]


def test_prepare_splits_report_counts_everything(clause_file, legal):
    splits = prepare_splits(legal, clause_file, eval_fraction=0.1, test_fraction=0.25, seed=3)
    rep = splits.report
    assert rep["rows_read"] == 36
    assert sum(rep["splits"].values()) + rep["leakage_removed_from_test"] + rep["leakage_removed_from_dev"] == 36
    assert set(legal.labels) == {"Governing Law", "Anti-Assignment", "Cap on Liability"}


def test_chat_jsonl_is_accepted(tmp_path, legal):
    rows = [
        {
            "messages": [
                {"role": "system", "content": "Classify."},
                {"role": "user", "content": f"clause {i}"},
                {"role": "assistant", "content": '{"label": "Governing Law"}'},
            ]
        }
        for i in range(3)
    ]
    rows.append({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "no json"}]})
    path = write_jsonl(tmp_path / "chat.jsonl", rows)
    with pytest.raises(DataErrors) as info:
        legal.load(path)
    assert info.value.errors[0].row == 4 and info.value.errors[0].field == "messages[1].content"
    ok = legal.load(write_jsonl(tmp_path / "ok.jsonl", rows[:3]))
    assert ok.examples[0].prompt[0]["content"] == "Classify." and ok.examples[0].reference == "Governing Law"
