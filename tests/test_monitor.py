"""`vft monitor` detects a constructed drift (the labels of a copy of the test split shuffled) and passes on the
original rows, exiting non-zero only on the drift."""

from __future__ import annotations

import json
import random

import pytest

from tests.conftest import LABELS, TEMPLATES, run_vft, write_jsonl

PLACES = [f"Place{i}" for i in range(40)]


@pytest.fixture(scope="module")
def learned_run(tiny_model, tmp_path_factory):
    """A tiny run that really learned the fixture task, so a drop has something to drop from."""
    from core.config import build_config
    from core.pipeline import train_and_evaluate

    tmp = tmp_path_factory.mktemp("monitor")
    rows = [{"id": f"{lab[:3]}-{i}", "text": TEMPLATES[lab].format(p), "label": lab, "contract": f"c{i}-{lab}"}
            for i, p in enumerate(PLACES) for lab in LABELS]  # fmt: skip
    cfg = build_config(overrides={
        "pack": "legal", "data": str(write_jsonl(tmp / "d.jsonl", rows)), "base_model": str(tiny_model),
        "output_dir": str(tmp), "max_steps": 300, "learning_rate": 3e-3, "lora": {"r": 32, "alpha": 64},
        "max_length": 256, "save_steps": 1000, "eval_steps": 1000, "test_fraction": 0.3, "systems": ["tuned"],
        "prompt": "compact"})  # fmt: skip
    run = train_and_evaluate("legal", cfg, name="learned")
    results = json.loads((run / "results.json").read_text())
    assert results["systems"]["tuned+scored"]["headline"] > 0.5, results["systems"]["tuned+scored"]["headline"]
    test = [json.loads(x) for x in (run / "data" / "test.jsonl").read_text().splitlines()]
    return run, [{"id": r["id"], "text": r["text"], "label": r["reference"]} for r in test], tmp


def test_original_rows_pass_and_shuffled_labels_are_a_drop(learned_run):
    run, rows, tmp = learned_run
    same = run_vft("monitor", str(run), "--data", str(write_jsonl(tmp / "same.jsonl", rows)), "--system",
                   "tuned+scored", "--json", str(tmp / "same.json"))  # fmt: skip
    assert same.returncode == 0, same.stderr[-2000:]
    assert json.loads((tmp / "same.json").read_text())["significant_drop"] is False
    labels = [r["label"] for r in rows]
    random.Random(3).shuffle(labels)
    shuffled = [{**r, "label": lab} for r, lab in zip(rows, labels, strict=True)]
    drift = run_vft("monitor", str(run), "--data", str(write_jsonl(tmp / "drift.jsonl", shuffled)), "--system",
                    "tuned+scored", "--json", str(tmp / "drift.json"))  # fmt: skip
    report = json.loads((tmp / "drift.json").read_text())
    assert drift.returncode == 1 and report["significant_drop"] is True, report["verdict"]
    assert "quality dropped" in report["verdict"] and report["data"]["label_total_variation"] >= 0
