"""The `vft` command as users run it: clear one-line errors, exit code 2, no traceback."""

import json

import pytest

from tests.conftest import run_vft as vft
from tests.conftest import write_jsonl


def test_config_schema_is_json():
    out = vft("config", "schema")
    assert out.returncode == 0 and "lora" in json.loads(out.stdout)["properties"]


def test_packs_lists_legal():
    out = vft("packs")
    assert out.returncode == 0 and "legal" in out.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "nosuchpack"], "no pack named 'nosuchpack'"),
        (["train", "legal", "--data", "missing.jsonl"], "file not found"),
        (["train", "legal", "--set", "lora.r=0"], "'lora.r'"),
        (["train", "legal", "--set", "epochz=1"], "unknown key 'epochz'"),
        (["train", "legal", "--base-model", "./no-such-model", "--data", "{data}"], "not found"),
        (["eval", "not-a-run"], "not a run folder"),
    ],
)
def test_bad_input_exits_2_with_named_error(tmp_path, args, message):
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": f"clause {i}", "label": "AB"[i % 2]} for i in range(20)])
    args = [a.replace("{data}", str(data)) for a in args]
    out = vft(*args, "--output-dir", str(tmp_path / "runs")) if args[0] == "train" else vft(*args)
    assert out.returncode == 2, out.stderr
    assert message in " ".join(out.stderr.split()) and "Traceback" not in out.stderr


def test_bad_row_is_named(tmp_path):
    data = write_jsonl(tmp_path / "d.jsonl", [{"text": "ok", "label": "A"}, {"txt": "oops", "label": "B"}])
    out = vft("train", "legal", "--data", str(data), "--output-dir", str(tmp_path / "runs"))
    assert out.returncode == 2
    assert "d.jsonl, row 2, field 'text': missing" in " ".join(out.stderr.split())


def test_packs_options_lists_a_packs_typed_options():
    out = vft("packs", "--options", "legal")
    text = " ".join(out.stdout.split())
    assert out.returncode == 0 and "label_column" in text and "cuad_top_k" in text and "balance" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "legal", "-O", "lable_column=type"], "did you mean 'label_column'"),
        (["config", "show", "legal", "-O", "cuad_top_kk=3"], "unknown option 'cuad_top_kk'"),
        (["packs", "--options", "nosuchpack"], "no pack named 'nosuchpack'"),
    ],
)
def test_pack_options_are_checked_everywhere(args, message):
    out = vft(*args)
    assert out.returncode == 2 and message in " ".join(out.stderr.split()), out.stderr


def test_systems_and_results_schema_are_listed():
    systems = vft("systems")
    assert systems.returncode == 0 and "few_shot+constrained" in systems.stdout and "prompting" in systems.stdout
    schema = json.loads(vft("schema", "results").stdout)
    assert {"systems", "training", "headline_metric"} <= set(schema["properties"])


def test_a_training_file_and_set_data_keys_both_reach_the_config(tmp_path):
    """`vft train --data F --set data.eval_fraction=...`: the file's path used to replace the whole data section."""
    from core.cli import _run_setup

    cfg, _ = _run_setup(
        "legal",
        data=tmp_path / "clauses.jsonl",
        config=None,
        set_=["data.eval_fraction=0.3", "lora.r=4"],
        option=None,
        columns={},
        flags={"epochs": 2, "output_dir": None},
    )
    assert cfg.data.path == str(tmp_path / "clauses.jsonl") and cfg.data.eval_fraction == 0.3
    assert (cfg.lora.r, cfg.training.epochs) == (4, 2)
