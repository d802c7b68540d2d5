"""The bad-input catalogue: every entry is something users really bring. Each must stop `vft` with a one-line
message naming the file, row and field where they exist, as one of the project's own errors (exit code 2 from the
console script), never a traceback; or, where the issue is survivable, be handled and counted in the data report.

Runs the CLI in-process (typer's CliRunner) so the table stays fast; tests/test_cli.py checks the real console
script's exit code and stderr."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.cli import app
from core.errors import VftError
from tests.conftest import write_jsonl

_WORDS = "lease term rent party notice breach court damages license audit payment transfer consent".split()
GOOD = [
    {
        "id": f"r{i}",
        "text": " ".join(_WORDS[(i * 7 + j * 3) % len(_WORDS)] for j in range(9)) + f" {i}",
        "label": "AB"[i % 2],
    }
    for i in range(30)
]


@dataclass
class Case:
    name: str
    make: Callable[[Path], list[str]]  # writes files under tmp, returns the CLI arguments
    expect: tuple[str, ...]  # fragments the error message must contain


def _write(tmp: Path, name: str, content: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _train(path: Path, *extra: str, pack: str = "legal") -> list[str]:
    return ["train", pack, "--data", str(path), *extra]


def _jsonl(rows: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in rows)


def _csv(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


CASES = [
    Case("empty file", lambda t: _train(_write(t, "e.jsonl", b"")), ("e.jsonl", "file is empty")),
    Case("only blank lines", lambda t: _train(_write(t, "b.jsonl", "\n\n  \n")), ("b.jsonl", "no data rows")),
    Case(
        "truncated JSONL line",
        lambda t: _train(_write(t, "t.jsonl", _jsonl(GOOD[:2]) + '{"text": "cut off", "lab')),
        ("t.jsonl", "row 3", "not valid JSON"),
    ),
    Case(
        "JSONL line not an object", lambda t: _train(_write(t, "a.jsonl", '["text"]\n')), ("row 1", "not a JSON object")
    ),
    Case(
        "CSV missing the label column",
        lambda t: _train(_write(t, "m.csv", _csv("text", "a clause", "another clause"))),
        ("m.csv", "row 1", "field 'label'", "missing"),
    ),
    Case(
        "CSV with a renamed text column",
        lambda t: _train(_write(t, "r.csv", _csv("clause,label", "a clause,A", "b clause,B"))),
        ("r.csv", "row 1", "field 'text'", "columns present: clause, label"),
    ),
    Case(
        "CSV row with extra cells",
        lambda t: _train(_write(t, "x.csv", _csv("text,label", "a,A", "b,B,surplus"))),
        ("x.csv", "row 2", "3 cells but the header has 2"),
    ),
    Case(
        "non-UTF-8 bytes",
        lambda t: _train(
            _write(t, "latin.jsonl", _jsonl(GOOD[:3]).encode() + '{"text": "caf\xe9"}\n'.encode("latin-1"))
        ),
        ("latin.jsonl", "row 4", "not valid UTF-8"),
    ),
    Case("unsupported file type", lambda t: _train(_write(t, "d.txt", "hello")), ("d.txt", "unsupported file type")),
    Case("data file does not exist", lambda t: _train(t / "nope.jsonl"), ("nope.jsonl", "file not found")),
    Case(
        "label outside the label file",
        lambda t: _train(
            write_jsonl(t / "l.jsonl", [*GOOD[:4], {"text": "odd", "label": "Zebra"}]),
            "--labels-file",
            str(_write(t, "labels.csv", "label,definition\nA,first\nB,second\n")),
        ),
        ("l.jsonl", "row 5", "field 'label'", "'Zebra' is not in the label file"),
    ),
    Case(
        "label of the wrong type",
        lambda t: _train(write_jsonl(t / "w.jsonl", [*GOOD[:2], {"text": "x", "label": ["A", "B"]}])),
        ("w.jsonl", "row 3", "field 'label'", "expected text, got list"),
    ),
    Case(
        "text of the wrong type",
        lambda t: _train(write_jsonl(t / "n.jsonl", [{"text": {"nested": 1}, "label": "A"}])),
        ("n.jsonl", "row 1", "field 'text'", "expected text, got dict"),
    ),
    Case(
        "empty text",
        lambda t: _train(write_jsonl(t / "et.jsonl", [*GOOD[:2], {"text": "   ", "label": "A"}])),
        ("et.jsonl", "row 3", "field 'text'", "is empty"),
    ),
    Case(
        "all rows are duplicates",
        lambda t: _train(write_jsonl(t / "dup.jsonl", [{"text": "same clause", "label": "A"}] * 40)),
        ("dup.jsonl", "only 1 distinct example(s) in 40 rows", "39 exact"),
    ),
    Case(
        "unknown split name",
        lambda t: _train(write_jsonl(t / "s.jsonl", [{**r, "split": "holdout"} for r in GOOD])),
        ("unknown split 'holdout'",),
    ),
    Case(
        ".json file holding an object",
        lambda t: _train(_write(t, "o.json", '{"text": "a", "label": "A"}')),
        ("o.json", "must hold a list of records"),
    ),
    Case(
        "corrupt Parquet",
        lambda t: _train(_write(t, "c.parquet", b"PAR1garbage")),
        ("c.parquet", "cannot read Parquet"),
    ),
    Case(
        "chat JSONL ending with a user turn",
        lambda t: _train(write_jsonl(t / "chat.jsonl", [{"messages": [{"role": "user", "content": "hi"}]}])),
        ("chat.jsonl", "row 1", "field 'messages'", "last message must be the assistant"),
    ),
    Case(
        "chat JSONL with an unknown role",
        lambda t: _train(
            write_jsonl(
                t / "role.jsonl",
                [{"messages": [{"role": "bot", "content": "x"}, {"role": "assistant", "content": '{"label": "A"}'}]}],
            )
        ),
        ("role.jsonl", "row 1", "messages[0].role", "unknown role 'bot'"),
    ),
    Case(
        "config with an unknown key",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--config", str(_write(t, "c.yaml", "epochz: 2\n"))),
        ("c.yaml", "unknown key 'epochz'"),
    ),
    Case(
        "config value out of range",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--set", "learning_rate=5"),
        ("'training.learning_rate'", "less than or equal to 1"),
    ),
    Case(
        "misspelled pack option",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "-O", "lable_column=x"),
        ("unknown option 'lable_column'", "did you mean 'label_column'", "Valid options: text_column"),
    ),
    Case(
        "unknown system",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--set", "systems=[zero_shot,fewshot]"),
        ("unknown system 'fewshot'", "few_shot"),
    ),
    Case(
        "config that is not a mapping",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--config", str(_write(t, "l.yaml", "- a\n- b\n"))),
        ("l.yaml", "top level must be a mapping"),
    ),
    Case(
        "config that is not YAML",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--config", str(_write(t, "y.yaml", "a: [1, 2\n"))),
        ("y.yaml", "not valid YAML"),
    ),
    Case(
        "config file missing",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--config", str(t / "none.yaml")),
        ("none.yaml", "config file not found"),
    ),
    Case(
        "base-model path that does not exist",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--base-model", str(t / "no-model")),
        ("no-model", "not found"),
    ),
    Case(
        "base-model folder that is not a model",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--base-model", str(t)),
        ("has no config.json",),
    ),
    Case("unknown pack", lambda t: ["train", "lgal"], ("no pack named 'lgal'", "legal")),
    Case(
        "labels file missing",
        lambda t: _train(write_jsonl(t / "g.jsonl", GOOD), "--labels-file", str(t / "labels.yaml")),
        ("labels.yaml", "label file not found"),
    ),
    Case(
        "clinical target that is not JSON",
        lambda t: _train(write_jsonl(t / "c.jsonl", [{"text": "visit", "target": "{age: 4"}]), pack="clinical"),
        ("c.jsonl", "row 1", "field 'target'", "not valid JSON"),
    ),
    Case(
        "clinical target field of the wrong type",
        lambda t: _train(
            write_jsonl(t / "c.jsonl", [{"text": "visit", "target": {"allergies": "none"}}]), pack="clinical"
        ),
        ("c.jsonl", "row 1", "target.allergies", "valid list"),
    ),
    Case(
        "e-commerce product without a name",
        lambda t: _train(
            write_jsonl(t / "p.jsonl", [{"attributes": {"colour": "red"}, "description": "Nice."}]), pack="ecommerce"
        ),
        ("p.jsonl", "row 1", "attributes.name"),
    ),
    Case("resume a folder that is not a run", lambda t: ["train", "--resume", str(t)], ("not a run folder",)),
    Case("evaluate a folder that is not a run", lambda t: ["eval", str(t)], ("not a run folder",)),
    Case(
        "redact a field that does not exist",
        lambda t: ["redact", str(write_jsonl(t / "r.jsonl", [{"note": "x"}])), "--fields", "dialogue"],
        ("r.jsonl", "row 1", "field 'dialogue'", "missing"),
    ),
]


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 25


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_named(case: Case, tmp_path: Path):
    args = case.make(tmp_path)
    if args[0] == "train" and "--output-dir" not in args:
        args += ["--output-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, VftError), f"not a project error: {result.exception!r}"
    message = " ".join(str(result.exception).split())
    for fragment in case.expect:
        assert fragment in message, f"{fragment!r} missing from: {message}"
    runs = tmp_path / "runs"
    assert not runs.exists() or not any(runs.iterdir()), "a failed start left a run folder behind"


def test_one_megabyte_row_is_truncated_and_counted(tiny_tokenizer):
    from core.pack import Example, get_pack
    from core.train import tokenize_examples

    pack = get_pack("legal")
    pack.definitions = {"A": "", "B": ""}
    huge = Example(id="big", text="word " * 200_000, target='{"label": "A"}', reference="A")
    small = Example(id="ok", text="short clause", target='{"label": "B"}', reference="B")
    _, stats = tokenize_examples(tiny_tokenizer, pack, [huge, small], 256)
    assert stats.examples == 2 and stats.truncated == 1 and max(stats.lengths) <= 256


def test_test_set_overlapping_train_is_removed_and_counted(tmp_path):
    from core.data import prepare_splits
    from core.pack import get_pack

    rows = (
        [{**r, "split": "train"} for r in GOOD]
        + [
            {"id": f"t{i}", "text": GOOD[i]["text"] + " .", "label": GOOD[i]["label"], "split": "test"}
            for i in range(5)
        ]
        + [{"id": "fresh", "text": "Entirely different wording here", "label": "A", "split": "test"}]
    )
    splits = prepare_splits(
        get_pack("legal"), write_jsonl(tmp_path / "o.jsonl", rows), eval_fraction=0.1, test_fraction=0.2, seed=1
    )
    assert splits.report["leakage_removed_from_test"] == 5 and [e.id for e in splits.test] == ["fresh"]


def test_skip_invalid_counts_instead_of_stopping(tmp_path):
    from core.data import prepare_splits
    from core.pack import get_pack

    rows = [*GOOD, {"txt": "bad"}, {"text": "", "label": "A"}]
    splits = prepare_splits(
        get_pack("legal"), write_jsonl(tmp_path / "s.jsonl", rows), eval_fraction=0.1, test_fraction=0.2, seed=1,
        skip_invalid=True,
    )  # fmt: skip
    assert splits.report["pack_counts"]["skipped_invalid_rows"] == 2
    report = splits.report
    kept = sum(report["splits"].values()) + report["leakage_removed_from_test"] + report["leakage_removed_from_dev"]
    assert kept == len(GOOD)  # every valid row is in a split or counted as removed
