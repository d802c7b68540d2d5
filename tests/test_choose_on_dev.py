"""Choosing a setting on dev data: the dev scoring of bench.choose_on_dev / bench.common sees the run's dev split and
never its test split, and a candidate compared with itself differs by exactly zero."""

from __future__ import annotations

from bench.choose_on_dev import dev_answer_loss, dev_predictions, paired_difference
from bench.common import score_on_dev
from core.loaded_run import load_run_pack
from core.run_folder import RunFolder


def test_dev_scoring_uses_the_dev_split_only_and_agrees_between_helpers(small_run):
    folder = RunFolder.open(small_run)
    dev_ids = {e.id for e in folder.load_split("dev")}
    test_ids = {e.id for e in folder.load_split("test")}
    assert dev_ids and test_ids and not dev_ids & test_ids
    test_predictions = folder.read_predictions("tuned")
    headline, rows, scalars, _ = dev_predictions(small_run, "tuned")
    assert set(rows) == dev_ids
    assert scalars["headline"] == headline and "macro_f1" in scalars
    assert score_on_dev(small_run, ["tuned"]) == {"tuned": headline}
    assert paired_difference(load_run_pack(folder), rows, rows) == {"estimate": 0.0, "low": 0.0, "high": 0.0}
    assert dev_answer_loss(small_run) > 0
    assert folder.read_predictions("tuned") == test_predictions  # the run's own test predictions are untouched


def test_setting_labels_read_like_the_command_line():
    from bench.choose_on_dev import setting_label
    from core.config import parse_overrides

    written = "lora.top_layers=null,prompt=compact,lora.r=8"
    assert setting_label(parse_overrides(written.split(","))) == "lora.top_layers=null,lora.r=8,prompt=compact"


def test_rescoring_under_one_fit_reproduces_the_evaluations_metrics(small_run):
    from bench.choose_on_dev import scored_with

    folder = RunFolder.open(small_run)
    _, rows, scalars, fitted = dev_predictions(small_run, "tuned")
    texts = {ex.id: ex.text for ex in folder.load_split("dev")}
    again = scored_with(fitted, rows, texts)
    assert again["macro_f1"] == scalars["macro_f1"]
    right = {i: {**r, "parsed": r["reference"]} for i, r in rows.items()}  # the answers, not the fit, decide
    assert scored_with(fitted, right, texts)["macro_f1"] == 1.0 > scalars["macro_f1"]
