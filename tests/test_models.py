import pytest

from core import models
from core.errors import ModelNotFoundError


def test_local_folder_resolves(tiny_model):
    assert models.resolve(str(tiny_model)) == str(tiny_model)


@pytest.mark.parametrize("name", ["./no/such/model", "/tmp/definitely-missing-model", "not-an-alias"])
def test_missing_models_are_clear_errors(name):
    with pytest.raises(ModelNotFoundError, match=r"not found"):
        models.resolve(name)


def test_folder_without_config_is_rejected(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        models.resolve(str(tmp_path))


def test_hub_id_passes_through():
    assert models.resolve("HuggingFaceTB/SmolLM2-135M-Instruct") == "HuggingFaceTB/SmolLM2-135M-Instruct"


def test_failed_conversion_leaves_nothing_loadable(tmp_path, monkeypatch):
    """A conversion that dies midway must not leave a folder that a later run would load."""
    monkeypatch.setenv("VFT_CACHE", str(tmp_path))
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"GGUF not really")
    monkeypatch.setattr(models, "gguf_file", lambda alias: bogus)
    with pytest.raises(Exception):  # noqa: B017 - whatever the GGUF reader raises
        models.provision("smollm2-135m")
    assert not models.is_cached("smollm2-135m")
    assert not models.alias_cache_dir("smollm2-135m").exists()
    assert not [p for p in (tmp_path / "models").iterdir() if not p.name.endswith(".lock")]


def test_folder_without_marker_is_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("VFT_CACHE", str(tmp_path))
    models.alias_cache_dir("smollm2-135m").mkdir(parents=True)
    assert not models.is_cached("smollm2-135m")


def test_precision_and_quantization_resolution(monkeypatch):
    assert models.resolve_quantization("auto", "cuda") == "4bit"
    assert models.resolve_quantization("auto", "cpu") == "none"
    monkeypatch.setattr(models, "cpu_supports_bf16", lambda: False)
    assert models.resolve_precision("auto", "cpu") == "fp32"
    monkeypatch.setattr(models, "cpu_supports_bf16", lambda: True)
    assert models.resolve_precision("auto", "cpu") == "bf16"
    assert models.resolve_precision("fp32", "cpu") == "fp32"


def test_pad_token_differs_from_end_of_turn(tiny_tokenizer):
    assert tiny_tokenizer.pad_token != tiny_tokenizer.eos_token
