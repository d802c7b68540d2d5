"""End to end on the tiny fixture model: train -> evaluate -> report, resume, predict, export."""

import json

import pytest

from core.config import build_config
from core.pipeline import train_and_evaluate

FILES = [
    "config.yaml",
    "data_report.json",
    "pack_state.json",
    "train_log.jsonl",
    "results.json",
    "report.md",
    "report.html",
    "adapter/adapter_config.json",
    "adapter/adapter_model.safetensors",
    "adapter/chat_template.jinja",
    "data/train.jsonl",
    "data/test.jsonl",
    "plots/loss.png",
    "plots/headline.png",
    "predictions/zero_shot.jsonl",
    "predictions/tuned.jsonl",
    "predictions/few_shot.jsonl",
    "predictions/few_shot_random.jsonl",
    "predictions/tuned+constrained.jsonl",
    "predictions/few_shot+constrained.jsonl",
    "predictions/few_shot_random+constrained.jsonl",
]


def _cfg(tiny_model, clause_file, tmp_path, **extra):
    overrides = {
        "pack": "legal",
        "data": str(clause_file),
        "base_model": str(tiny_model),
        "output_dir": str(tmp_path / "runs"),
        "max_steps": 6,
        "save_steps": 3,
        "eval_steps": 3,
        "max_length": 256,
        "learning_rate": 5e-3,
        "test_fraction": 0.25,
        "eval_fraction": 0.2,
        "max_eval_examples": 8,
        "eval_batch_size": 4,
        "eval_generation_examples": 4,
        "best_checkpoint_metric": "headline",
        "systems": ["zero_shot", "few_shot", "few_shot_random", "tuned"],  # the opt-in diagnostic too
        **extra,
    }
    return build_config(overrides=overrides)


@pytest.fixture(scope="module")
def tiny_run(tiny_model, tmp_path_factory):
    from tests.conftest import LABELS, PLACES, TEMPLATES, write_jsonl

    tmp = tmp_path_factory.mktemp("run")
    rows = [
        {"id": f"{lab[:3]}-{i}", "text": TEMPLATES[lab].format(p), "label": lab, "contract": f"c{i}-{lab}"}
        for i, p in enumerate(PLACES)
        for lab in LABELS
    ]
    data = write_jsonl(tmp / "clauses.jsonl", rows)
    run_dir = train_and_evaluate("legal", _cfg(tiny_model, data, tmp), name="tiny")
    return run_dir, data


def test_run_folder_is_complete(tiny_run):
    run_dir, _ = tiny_run
    missing = [f for f in FILES if not (run_dir / f).is_file()]
    assert not missing
    results = json.loads((run_dir / "results.json").read_text())
    assert results["headline_metric"] == "macro_f1"
    for name, scores in results["systems"].items():
        assert 0.0 <= scores["macro_f1"] <= 1.0 and 0.0 <= scores["parse_rate"] <= 1.0, name
    assert results["systems"]["tuned+constrained"]["parse_rate"] == 1.0  # constrained = always valid
    assert results["training"]["global_step"] == 6
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    assert any("loss" in r for r in log) and any("eval_loss" in r for r in log)
    generated = [r for r in log if "eval_macro_f1" in r]
    assert len(generated) == 2 and all(r["eval_generation_examples"] == 4 for r in generated)
    best = results["training"]["best_metric"]
    assert best["name"] == "eval_macro_f1" and best["value"] == max(r["eval_macro_f1"] for r in generated)
    assert results["training"]["best_checkpoint"].split("-")[-1] in ("3", "6")
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "tuned" in html


def test_predictions_keep_parse_failures(tiny_run):
    run_dir, _ = tiny_run
    rows = [json.loads(x) for x in (run_dir / "predictions" / "zero_shot.jsonl").read_text().splitlines()]
    assert rows and all({"id", "raw", "parsed", "parse_error", "reference"} <= set(r) for r in rows)
    for r in rows:
        assert (r["parsed"] is None) == (r["parse_error"] is not None)
    test_ids = [json.loads(x)["id"] for x in (run_dir / "data" / "test.jsonl").read_text().splitlines()]
    assert len(rows) == min(8, len(test_ids))


def test_held_out_never_in_training(tiny_run):
    run_dir, _ = tiny_run
    ids = {
        name: {json.loads(x)["id"] for x in (run_dir / "data" / f"{name}.jsonl").read_text().splitlines()}
        for name in ("train", "dev", "test")
    }
    assert not ids["train"] & ids["test"] and not ids["train"] & ids["dev"]


def test_resume_continues_from_checkpoint(tiny_run, tiny_model, tmp_path):
    """Simulate a killed run: keep checkpoint-3 only, drop the adapter, resume to step 6."""
    import shutil

    run_dir, _ = tiny_run
    copy = tmp_path / "killed"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "adapter")
    shutil.rmtree(copy / "checkpoints" / "checkpoint-6")
    for f in ("results.json", "report.md", "report.html"):
        (copy / f).unlink()
    out = train_and_evaluate("", None, resume_dir=copy, evaluate=False)  # type: ignore[arg-type]
    results = json.loads((out / "results.json").read_text())
    assert results["training"]["resumed_from"].endswith("checkpoint-3")
    assert results["training"]["global_step"] == 6
    assert (copy / "adapter" / "adapter_model.safetensors").is_file()


def test_resume_without_checkpoint_restarts_cleanly(tiny_run, tmp_path):
    import shutil

    run_dir, _ = tiny_run
    copy = tmp_path / "early"
    shutil.copytree(run_dir, copy)
    shutil.rmtree(copy / "adapter")
    shutil.rmtree(copy / "checkpoints")
    (copy / "checkpoints" / "checkpoint-3").mkdir(parents=True)  # half-written: no trainer_state.json
    train_and_evaluate("", None, resume_dir=copy, evaluate=False)  # type: ignore[arg-type]
    assert json.loads((copy / "results.json").read_text())["training"]["resumed_from"] is None


def test_predict_and_export(tiny_run, tmp_path):
    from core.export import export_run
    from core.predict import predict_file

    run_dir, data = tiny_run
    summary = predict_file(run_dir, data, tmp_path / "preds.jsonl", batch_size=8, constrained=True)
    assert summary["rows"] == 36 and summary["parse_failures"] == 0 and "metrics" in summary
    msg = export_run(run_dir, tmp_path / "merged", merge=True)
    assert "vllm" in msg.lower()
    from transformers import AutoModelForCausalLM

    assert AutoModelForCausalLM.from_pretrained(tmp_path / "merged") is not None
    assert (tmp_path / "merged" / "model.safetensors").is_file()


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason="Debian chromium not installed (make test does)")
def test_report_renders_in_headless_chromium(tiny_run):
    """Open report.html in a real browser: every plot must load (they are embedded, so no server is needed)."""
    from playwright.sync_api import sync_playwright

    run_dir, _ = tiny_run
    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=args)
        page = browser.new_page()
        page.goto((run_dir / "report.html").resolve().as_uri())
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.complete, e.naturalWidth])")
        text = page.inner_text("body")
        verdict = page.locator("#verdict")
        verdict_visible, verdict_text = verdict.is_visible(), verdict.inner_text()
        verdict_top = verdict.bounding_box()["y"]
        table_top = page.locator("table").first.bounding_box()["y"]
        page.screenshot(path=str(run_dir / "report_screenshot.png"), full_page=True)
        browser.close()
    assert len(images) >= 3 and all(done and width > 0 for done, width in images)
    assert "Systems compared" in text and "tuned+constrained" in text
    assert verdict_visible and verdict_text.startswith("Verdict:") and "Ship" in verdict_text
    assert verdict_top < table_top and verdict_top < 200  # at the top of the page, above every table
