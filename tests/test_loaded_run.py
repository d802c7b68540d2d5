"""One way to open a run: evaluation, predict, the demos and export all go through core.loaded_run, so a GPU is
used by every caller when present (checked with CUDA mocked at the torch.cuda boundary), and every caller allows
the same prompt budget and decodes the same way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_cuda(monkeypatch):
    """torch says a GPU is there; moving a module to it is recorded instead of done (this machine has none)."""
    import torch

    moved: list[str] = []
    real_to = torch.nn.Module.to

    def to(self, *args, **kwargs):
        target = args[0] if args else kwargs.get("device")
        if str(target).startswith("cuda"):
            moved.append(str(target))
            return self
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.nn.Module, "to", to)
    return moved


def test_open_run_places_the_model_on_cuda_when_present(small_run, fake_cuda):
    from core.loaded_run import open_run

    loaded = open_run(small_run)
    assert loaded.device == "cuda" and fake_cuda == ["cuda"] and loaded.precision == "bf16" and loaded.tuned


def test_predict_and_demo_use_the_gpu_too(small_run, fake_cuda, tmp_path):
    from core.predict import predict_file
    from demos.builder import _open
    from demos.registry import spec_for

    summary = predict_file(small_run, small_run / "data" / "test.jsonl", tmp_path / "p.jsonl", batch_size=4)
    assert summary["device"] == "cuda" and summary["rows"] > 0
    assert _open(spec_for("legal"), small_run, "smollm2-135m").device == "cuda"
    assert fake_cuda.count("cuda") == 2


def test_cpu_without_gpu(small_run):
    from core.loaded_run import open_run

    assert open_run(small_run).device == "cpu"


def test_every_inference_caller_gets_the_same_budget_and_decoding(small_run, tiny_model):
    from core.generate import Decoding
    from core.loaded_run import open_base, open_run, prompt_budget
    from core.run_folder import RunFolder

    loaded = open_run(small_run)
    cfg = RunFolder(small_run).load_config()
    assert loaded.max_length == prompt_budget(cfg, loaded.model.config) == 2048  # the tiny model's position limit
    assert loaded.decoding == Decoding.for_run(loaded.pack, cfg)
    base = open_base("legal", str(tiny_model))
    assert base.max_length == prompt_budget(base.config, base.model.config) and not base.tuned


def test_no_inference_path_builds_its_own_generator():
    """Generator is built in loaded_run (inference) and in the training-time callback (the model being trained),
    both with prompt_budget; nowhere else in the product."""
    builders = []
    for package in ("core", "demos", "verticals"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Generator":
                    builders.append(path.relative_to(ROOT).as_posix())
    assert sorted(builders) == ["core/loaded_run.py", "core/train.py"]
