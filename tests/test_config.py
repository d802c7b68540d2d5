import json

import pytest

from core.config import RunConfig, build_config, config_schema, parse_overrides
from core.errors import ConfigError


def test_defaults_are_valid():
    cfg = RunConfig()
    m = cfg.model
    assert m.base_model == "smollm2-135m" and m.quantization == "auto" and m.precision == "auto"


def test_random_shots_are_opt_in():
    assert RunConfig().evaluation.systems == [
        "zero_shot",
        "few_shot",
        "tuned",
        "classical",
        "tuned+classical",
        "nearest",
    ]
    cfg = build_config(overrides={"systems": ["zero_shot", "few_shot_random"]})
    assert "few_shot_random" in cfg.evaluation.systems


def test_flat_keys_of_the_first_release_land_in_their_sections():
    cfg = build_config(
        overrides=parse_overrides(
            ["epochs=3", "max_length=3072", "redaction.operator=tag", "allow_unredacted=true", "data=x.csv"]
        )
    )
    assert (cfg.training.epochs, cfg.training.max_length) == (3, 3072)
    assert cfg.privacy.operator == "tag" and cfg.privacy.allow_unredacted and cfg.data.path == "x.csv"
    nested = build_config(overrides=parse_overrides(["training.epochs=4", "privacy.detector=regex"]))
    assert nested.training.epochs == 4 and nested.privacy.detector == "regex"


def test_saved_config_round_trips_nested(tmp_path):
    from core.config import dump_config, load_run_config

    cfg = build_config(overrides={"epochs": 5, "lora": {"r": 4}})
    text = dump_config(cfg)
    assert "training:" in text and "\nepochs:" not in text
    assert load_run_config(text) == cfg
    assert load_run_config("epochs: 2\nbase_model: x/y\n").model.base_model == "x/y"  # a first-release file


def test_precedence_pack_yaml_cli(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("epochs: 3\nlora:\n  r: 4\n")
    cfg = build_config(
        pack_defaults={"epochs": 1, "max_length": 256, "lora": {"alpha": 8}},
        yaml_path=y,
        overrides=parse_overrides(["lora.r=8", "learning_rate=1e-4"]),
    )
    t = cfg.training
    assert (t.epochs, t.max_length, cfg.lora.r, cfg.lora.alpha, t.learning_rate) == (3, 256, 8, 8, 1e-4)


def test_unknown_key_is_named(tmp_path):
    y = tmp_path / "run.yaml"
    y.write_text("epochz: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'epochz'"):
        build_config(yaml_path=y)


@pytest.mark.parametrize(
    "override, key",
    [
        ("learning_rate=-1", "training.learning_rate"),
        ("lora.r=0", "lora.r"),
        ("quantization=8bit", "model.quantization"),
        ("max_length=8", "training.max_length"),
        ("training.epochz=2", "training.epochz"),
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
    assert {"model", "lora", "training", "data", "evaluation", "decoding", "privacy"} <= set(schema["properties"])
    assert {"base_model", "quantization", "precision"} <= set(schema["$defs"]["ModelSettings"]["properties"])


def test_override_layers_merge_section_by_section():
    """A training file's path and `--set data.eval_fraction=...` both survive, and so do `--set lora.r` beside a
    layer's `lora.alpha`: spreading layers into one dict used to drop the earlier section whole."""
    from core.config import merge_overrides

    merged = merge_overrides(
        parse_overrides(["data.eval_fraction=0.3", "pack_options.style_file=s.yaml", "lora.r=4"]),
        {"data": "shop.csv", "pack_options": {"attribute_columns": "name,price"}, "lora": {"alpha": 8}},
        {"epochs": 2},
    )
    cfg = build_config(overrides=merged)
    assert (cfg.data.path, cfg.data.eval_fraction) == ("shop.csv", 0.3)
    assert cfg.pack_options == {"style_file": "s.yaml", "attribute_columns": "name,price"}
    assert (cfg.lora.r, cfg.lora.alpha, cfg.training.epochs) == (4, 8, 2)
    later = merge_overrides({"data": {"eval_fraction": 0.3}}, {"data": {"eval_fraction": 0.2}})
    assert later == {"data": {"eval_fraction": 0.2}}  # a later layer still wins key by key
