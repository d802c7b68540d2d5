"""Demos: every app starts from a real (tiny) run folder, answers through the Gradio API, and works in headless
Chromium (click an example, compare, both outputs appear); screenshots land in test-artifacts/."""

import os
import shutil
from pathlib import Path

import pytest

from core.config import build_config
from core.pipeline import train_and_evaluate
from tests.conftest import LABELS, PLACES, TEMPLATES, write_jsonl

os.environ["VFT_DEMO_DETECTOR"] = "regex"  # patterns-only scrubbing keeps the clinical app fast in tests
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _legal_rows():
    return [
        {"id": f"{lab[:3]}-{i}", "text": TEMPLATES[lab].format(p), "label": lab, "contract": f"c{i}"}
        for i, p in enumerate(PLACES)
        for lab in LABELS
    ]


def _clinical_rows():
    return [
        {"id": f"v{i}", "text": f"Doctor: Hello Ms. Ada Quill. Patient: I am {20 + i}, my {part} hurts.",
         "target": {"chief_complaint": f"{part} pain", "age": 20 + i}}
        for i, part in enumerate(["knee", "back", "neck", "wrist", "ankle", "hip", "elbow", "foot"] * 2)
    ]  # fmt: skip


def _ecommerce_rows():
    return [
        {"id": f"p{i}", "attributes": {"name": f"{c} {k}", "material": m},
         "description": f"The {c} {k} in soft {m.lower()}. - Easy care."}
        for i, (c, k, m) in enumerate(
            [(c, k, m) for c in ("Alpine", "Harbor", "Canyon") for k in ("Tee", "Jacket") for m in ("Cotton", "Wool")]
        )
    ]  # fmt: skip


ROWS = {"legal": _legal_rows, "clinical": _clinical_rows, "ecommerce": _ecommerce_rows}


@pytest.fixture(scope="module")
def runs(tiny_model, tmp_path_factory):
    from redaction.scrub import PresidioScrubber

    tmp = tmp_path_factory.mktemp("demo-runs")
    out = {}
    for pack, rows in ROWS.items():
        cfg = build_config(
            overrides={
                "pack": pack,
                "data": str(write_jsonl(tmp / f"{pack}.jsonl", rows())),
                "base_model": str(tiny_model),
                "output_dir": str(tmp / "runs"),
                "max_steps": 1,
                "max_length": 1536,
                "redaction": {"detector": "regex"},
            }
        )
        scrubber = PresidioScrubber("surrogate", "regex", show_progress=False) if pack == "clinical" else None
        out[pack] = train_and_evaluate(pack, cfg, name=pack, evaluate=False, scrubber=scrubber)
    return out


@pytest.fixture(scope="module")
def apps(runs):
    from demos.builder import build_app, launch
    from demos.registry import spec_for

    launched = {}
    for pack, run_dir in runs.items():
        app = build_app(spec_for(pack), run_dir)
        launch(app, prevent_thread_lock=True, quiet=True)
        launched[pack] = app
    yield launched
    for app in launched.values():
        app.close()


@pytest.mark.parametrize("pack", list(ROWS))
def test_app_binds_localhost_and_answers_through_api(apps, pack):
    from gradio_client import Client

    app = apps[pack]
    assert app.server_name == "127.0.0.1" and app.share is False
    client = Client(app.local_url, verbose=False)
    base, tuned, latency, scrubbed, _ = client.predict("Ms. Ada Quill: governing law of Delaware", api_name="/compare")
    assert base.startswith("### Base model") and tuned.startswith("### Fine-tuned")
    assert "base" in latency and "fine-tuned" in latency
    if pack == "clinical":
        assert "Ada Quill" not in scrubbed and scrubbed  # the model only ever sees the scrubbed text


def test_input_limit_is_a_clear_message(apps):
    from gradio_client import Client

    client = Client(apps["legal"].local_url, verbose=False)
    with pytest.raises(Exception, match="limit is 12,000"):
        client.predict("x" * 12_001, api_name="/compare")


def test_base_only_mode_says_so(tiny_model):
    from demos.builder import build_app
    from demos.registry import spec_for

    app = build_app(spec_for("legal"), None, base_model=str(tiny_model))
    assert "Base model only" in app.config["components"][0]["props"]["value"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (make browser)")
@pytest.mark.parametrize("pack", list(ROWS))
def test_app_in_headless_chromium(apps, pack):
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        page.goto(apps[pack].local_url)
        page.locator(".gallery-item, [data-testid='examples'] button, table.examples td").first.click()
        expect(page.locator("#vft-input textarea")).not_to_have_value("", timeout=10_000)
        page.locator("#vft-submit").click()
        expect(page.locator("#vft-base")).to_contain_text("Base model", timeout=120_000)
        expect(page.locator("#vft-tuned")).to_contain_text("Fine-tuned", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / f"demo-{pack}.png"), full_page=True)
        browser.close()
    assert (ARTIFACTS / f"demo-{pack}.png").stat().st_size > 10_000
