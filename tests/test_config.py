import json

import pytest

from core.config import RunConfig, build_config, config_schema, parse_overrides
from core.errors import ConfigError


def test_defaults_are_valid():
    cfg = RunConfig()
    assert cfg.base_model == "smollm2-135m" and cfg.quantization == "auto" and cfg.precision == "auto"


def test_random_shots_are_opt_in():
    assert RunConfig().systems == ["zero_shot", "few_shot", "tuned"]
    assert "few_shot_random" in build_config(overrides={"systems": ["zero_shot", "few_shot_random"]}).systems


def test_precedence_pack_yaml_cli(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("epochs: 3\nlora:\n  r: 4\n")
    cfg = build_config(
        pack_defaults={"epochs": 1, "max_length": 256, "lora": {"alpha": 8}},
        yaml_path=y,
        overrides=parse_overrides(["lora.r=8", "learning_rate=1e-4"]),
    )
    assert (cfg.epochs, cfg.max_length, cfg.lora.r, cfg.lora.alpha, cfg.learning_rate) == (3, 256, 8, 8, 1e-4)


def test_unknown_key_is_named(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("epochz: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'epochz'"):
        build_config(yaml_path=y)


@pytest.mark.parametrize(
    "override, key",
    [
        ("learning_rate=-1", "learning_rate"),
        ("lora.r=0", "lora.r"),
        ("quantization=8bit", "quantization"),
        ("max_length=8", "max_length"),
    ],
)
def test_out_of_range_is_named(override, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        build_config(overrides=parse_overrides([override]))


def test_bad_override_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["epochs"])
    with pytest.raises(ConfigError, match="not found"):
        build_config(yaml_path=tmp_path / "nope.yaml")


def test_schema_is_json_with_fields():
    schema = json.loads(config_schema())
    assert {"base_model", "lora", "quantization", "precision", "packing"} <= set(schema["properties"])
