"""The run config, split by concern the way TRL splits ModelConfig / SFTConfig / ScriptArguments: each part of the
code takes only its own section (`cfg.model`, `cfg.training`, ...). Precedence: pack defaults < YAML file < CLI
flags. Unknown keys are errors that name the key.

Flat keys of the first release (`epochs: 3`, `--set max_length=3072`, `redaction.operator=tag`, `data: file.csv`)
are still accepted and moved into their section, so existing YAML files and commands keep working."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import ConfigError

# Compared by default: the base model prompted (zero-shot, few-shot with retrieved examples), the fine-tuned adapter,
# and the simplest alternatives: `classical` (classification packs) and `nearest` (every pack). `few_shot_random` is
# a diagnostic (does retrieval matter?) that costs a quarter of evaluation time: opt in.
DEFAULT_SYSTEMS = ("zero_shot", "few_shot", "tuned", "classical", "tuned+classical", "nearest")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Strict):
    """Which base model, how it is loaded and on what numbers it computes."""

    base_model: str = Field("smollm2-135m", description="Alias (`vft models`), local HF folder or hub id.")
    trust_remote_code: bool = Field(False, description="Run model code from the model folder. Off by default.")
    quantization: Literal["none", "4bit", "auto"] = Field(
        "auto", description="'4bit' = QLoRA (bitsandbytes nf4). 'auto' = 4bit on CUDA, none on CPU."
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="Compute precision. 'auto' = bf16 where the CPU or GPU supports it, else fp32."
    )
    threads: int | None = Field(None, ge=1, description="torch threads on CPU (default: all cores).")


# The prompt an adapter is trained and prompted with. full: the base model's instructions; compact: without
# definitions or field guides; minimal: task and answer format only (packs fall back minimal -> compact -> full).
PromptStyle = Literal["full", "compact", "minimal"]


class LoraSettings(_Strict):
    r: int = Field(16, ge=1, le=1024, description="LoRA rank.")
    alpha: int = Field(32, ge=1, description="LoRA scaling numerator (scale = alpha / r).")
    dropout: float = Field(
        0.0,
        ge=0.0,
        lt=1.0,
        description="LoRA dropout. 0 by default: on a 2-core CPU 0.05 cost 17% of training speed at the same dev "
        "loss (bench/NOTES.md).",
    )
    target_modules: str | list[str] = Field(
        "all-linear", description="'all-linear' or a list of module names such as ['q_proj', 'v_proj']."
    )
    top_layers: int | None = Field(
        None,
        ge=1,
        description="Adapt only the last N transformer blocks (null: all). The backward pass then stops at the "
        "lowest adapted block, so each step costs less; whether the adapter stays as good is a dev-data question "
        "(bench.choose_on_dev).",
    )


class TrainingSettings(_Strict):
    """The optimisation: mapped onto trl's SFTConfig in one place (core.train.sft_config)."""

    max_length: int = Field(1024, ge=32, le=131072, description="Longest training sequence in tokens.")
    epochs: float = Field(2.0, gt=0, le=1000)
    max_steps: int = Field(-1, ge=-1, description="Stop after this many optimizer steps (-1: use epochs).")
    min_steps: int = Field(
        0,
        ge=0,
        description="Small data sets: when the epochs give fewer optimizer steps than this, run this many (more "
        "epochs over the same rows). 0 = off. max_steps and a time budget still win.",
    )
    max_minutes: float | None = Field(
        None,
        gt=0,
        description="Fit training into this many minutes on this machine: a few passes are timed before the first "
        "step and max_steps is lowered (never raised) to what fits; the chosen steps are saved in the run config.",
    )
    learning_rate: float = Field(2e-4, gt=0, le=1)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.05, ge=0, le=0.5)
    weight_decay: float = Field(0.0, ge=0, le=1)
    batch_size: int = Field(
        1, ge=1, description="Rows per device per step; with packing each row holds max_length tokens."
    )
    grad_accum: int = Field(2, ge=1)
    packing: bool = Field(True, description="Padding-free best-fit packing; documents stay apart.")
    share_prompt_prefix: bool = Field(
        True,
        description="With packing and SDPA attention: the prompt prefix every example shares is computed once per "
        "packed row and read by each document in it (same loss and gradients, fewer tokens).",
    )
    gradient_checkpointing: bool = Field(False, description="Trade compute for memory.")
    prompt: PromptStyle = Field(
        "full",
        description="Prompt the adapter is trained and prompted with: the base model's full instructions, the "
        "pack's compact prompt (no definitions or field guides), or its minimal one (task and answer format only; "
        "the adapter learns the label names too). Fewer tokens per example, more examples per minute.",
    )
    retrieval_k: int = Field(
        0,
        ge=0,
        le=16,
        description="Retrieval-augmented fine-tuning: train and prompt the adapter with the k most similar training "
        "examples (never the example itself) before the input. 0 = off.",
    )
    neftune_noise_alpha: float | None = Field(
        None,
        gt=0,
        le=100,
        description="NEFTune: uniform noise of this scale on the input embeddings while training (alpha / "
        "sqrt(row length x width); with packing the row holds several examples). A regulariser for small data "
        "sets trained for many epochs. None = off.",
    )
    eval_steps: int = Field(50, ge=1, description="Eval loss every N steps.")
    save_steps: int = Field(50, ge=1, description="Checkpoint every N steps (resume point).")
    logging_steps: int = Field(5, ge=1, description="Log train loss every N steps (train_log.jsonl).")
    eval_generation_examples: int = Field(
        0, ge=0, description="Generate on this many dev examples at each eval and log the pack's headline metric."
    )
    best_checkpoint_metric: Literal["eval_loss", "headline"] = Field(
        "eval_loss",
        description="Metric for early stopping and the adapter kept at the end; 'headline' needs "
        "eval_generation_examples > 0.",
    )
    early_stopping_patience: int | None = Field(None, ge=1, description="Evals without improvement before stop.")


class DataSettings(_Strict):
    """Which file, and how it is split."""

    path: str | None = Field(None, description="Training file; default: the pack's bundled sample.")
    eval_fraction: float = Field(0.1, ge=0, lt=0.5, description="Validation share (eval loss, early stopping).")
    test_fraction: float = Field(0.2, ge=0, lt=0.9, description="Held-out share scored after training.")
    max_train_examples: int | None = Field(None, ge=1, description="Cap the training split (after shuffling).")
    max_dev_examples: int | None = Field(
        200, ge=1, description="Cap the validation split used for eval loss during training (seeded sample)."
    )


class EvaluationSettings(_Strict):
    """Which systems are compared on the held-out split, and on how many examples."""

    systems: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SYSTEMS),
        description="Systems compared on the held-out split (`vft systems` lists them; add few_shot_random to see "
        "what retrieval adds).",
        min_length=1,
    )
    constrained: bool = Field(True, description="Also score every LLM system with constrained decoding.")
    label_scoring: bool = Field(
        True,
        description="Packs with a finite answer set: also score every LLM system by the log-likelihood of each "
        "complete answer (exact argmax, a probability per label).",
    )
    grounded: bool = Field(
        True,
        description="Free-text packs with grounding: also score every LLM system with grounded decoding (no "
        "colour, material or number the input lacks).",
    )
    few_shot_k: int = Field(3, ge=1, le=32)
    eval_batch_size: int = Field(
        16,
        ge=1,
        description="Most prompts answered at once. The generation batch rolls: a row leaves when its answer ends "
        "and the next prompt takes its place (core.rolling_batch).",
    )
    eval_batch_tokens: int | None = Field(
        None,
        ge=1,
        description="Also cap the generation batch at this many tokens, rows x (widest row + new tokens): short "
        "prompts then share big batches and long ones small ones. None: eval_batch_size rows whatever their length.",
    )
    max_eval_examples: int | None = Field(
        None, ge=1, description="Cap the held-out examples scored (a seeded sample). Default: the time budget decides."
    )
    time_budget_minutes: float | None = Field(
        30.0,
        gt=0,
        description="Score the whole held-out split when the speed measured on its first examples says it fits this "
        "budget; otherwise a seeded sample that fits (the report says how many and why). null = always all.",
    )
    bootstrap_resamples: int = Field(1000, ge=100, le=100_000, description="Paired bootstrap resamples (seeded).")


class DecodingSettings(_Strict):
    """How answers are decoded; every caller (evaluation, predict, demos, serving) decodes the same way."""

    max_new_tokens: int | None = Field(None, ge=1, description="Default: the pack's own.")
    no_repeat_ngram_size: int | None = Field(
        None, ge=0, le=64, description="Never repeat an n-gram of the answer (0 = off). Default: the pack's own."
    )
    repetition_penalty: float | None = Field(
        None,
        ge=1.0,
        le=2.0,
        description="Penalise tokens already in the answer (1.0 = off; prompt not counted). Default: the pack's own.",
    )
    end_at_repeated_line: bool | None = Field(
        None,
        description="End a free-text answer where a line repeats an earlier one (the repeat is cut). Default: the "
        "pack's own.",
    )
    end_after_json: bool = Field(
        True,
        description="Extraction packs, free decoding: end an answer where its first JSON object closes (the parsed "
        "answer is the same), or once it has written 240 characters without starting one (it is not the answer "
        "asked for and will not parse).",
    )
    end_loops: bool = Field(
        True,
        description="Extraction packs, free decoding: also end an unfinished answer caught in a verbatim loop (one "
        "unit written 3 times or more over 60 characters or more, e.g. the same JSON line again and again); such an "
        "answer almost never closes its object before the token budget, so it would not parse either way.",
    )
    coverage_bonus: float | None = Field(
        None,
        ge=0.0,
        le=10.0,
        description="Grounded answers: logit bonus on the token that starts (or continues) a fact of the input not "
        "yet stated, e.g. a product attribute (0 = off). Default: the pack's own.",
    )
    keep_length: bool | None = Field(
        None,
        description="Free-text packs with a length range (e.g. a style guide's 35-90 words): no end before the "
        "range's low end, and an answer past its high end is cut after its last sentence inside the range "
        "(core.answer_length). Default: the pack's own.",
    )


class PrivacySettings(_Strict):
    """How packs that need PII scrubbing scrub their inputs before anything is trained."""

    operator: Literal["surrogate", "tag", "instance", "mask", "hash"] = Field(
        "surrogate", description="Replacement: consistent fake values (surrogate), <TAG>, <TAG_1>, mask or hash."
    )
    detector: Literal["spacy", "regex"] = Field("spacy", description="spaCy NER + patterns, or patterns only.")
    threshold: float = Field(0.4, ge=0, le=1, description="Minimum detection score.")
    recall_mode: Literal["default", "high_recall"] = Field(
        "default",
        description="high_recall: also scrub every capitalised word that is neither common nor clinical, and every "
        "number of 5+ digits (safelist approach; lower precision, see README).",
    )
    workers: int = Field(1, ge=1, description="spaCy processes.")
    allow_unredacted: bool = Field(
        False, description="Train a pack that needs PII scrubbing on unscrubbed data. Recorded in the report."
    )


SECTIONS: dict[str, type[_Strict]] = {
    "model": ModelSettings,
    "lora": LoraSettings,
    "training": TrainingSettings,
    "data": DataSettings,
    "evaluation": EvaluationSettings,
    "decoding": DecodingSettings,
    "privacy": PrivacySettings,
}


class RunConfig(_Strict):
    """Everything a training + evaluation run needs. Saved as config.yaml in the run folder."""

    pack: str | None = Field(None, description="Registered pack name; set by `vft train PACK`.")
    pack_options: dict[str, Any] = Field(
        default_factory=dict, description="Pack-specific options (`vft packs --options PACK` lists them)."
    )
    seed: int = 42
    output_dir: str = "runs"
    model: ModelSettings = Field(default_factory=ModelSettings)
    lora: LoraSettings = Field(default_factory=LoraSettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    data: DataSettings = Field(default_factory=DataSettings)
    evaluation: EvaluationSettings = Field(default_factory=EvaluationSettings)
    decoding: DecodingSettings = Field(default_factory=DecodingSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)


def _leaf_owners() -> dict[str, str]:
    """Flat key -> its section, for the keys that live in exactly one section (all of them today)."""
    owners: dict[str, list[str]] = {}
    for section, model in SECTIONS.items():
        for name in model.model_fields:
            owners.setdefault(name, []).append(section)
    return {name: sections[0] for name, sections in owners.items() if len(sections) == 1}


def nest_flat_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """Move first-release flat keys into their sections; leave anything unknown for validation to reject."""
    out: dict[str, Any] = {}
    owners = _leaf_owners()
    for key, value in raw.items():
        if key == "data" and (value is None or isinstance(value, str)):
            out.setdefault("data", {})["path"] = value
        elif key == "redaction" and isinstance(value, dict):
            out["privacy"] = _deep_merge(out.get("privacy", {}), value)
        elif key in RunConfig.model_fields:
            out[key] = (
                _deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
            )
        elif key in owners:
            out.setdefault(owners[key], {})[key] = value
        else:
            out[key] = value
    return out


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def merge_overrides(*layers: dict[str, Any]) -> dict[str, Any]:
    """Override layers merged section by section, later layers winning key by key. Spreading them into one dict
    literal instead would let a later `data` (a file's path) or `pack_options` replace a whole earlier section,
    losing `--set data.eval_fraction=...` without a word."""
    out: dict[str, Any] = {}
    for layer in layers:
        out = _deep_merge(out, nest_flat_keys(layer))
    return out


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """Turn ['lora.r=8', 'epochs=1'] into a nested dict; values are read as YAML scalars."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"override '{pair}' is not of the form key=value")
        key, raw = pair.split("=", 1)
        node = out
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw) if raw != "" else None
    return out


def _format_validation(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown key '{loc}'")
        else:
            lines.append(f"'{loc}': {e['msg']} (got {e.get('input')!r})")
    return f"invalid config ({source}): " + "; ".join(lines)


def read_yaml_config(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: top level must be a mapping of config keys")
    return loaded


def build_config(
    *,
    pack_defaults: dict[str, Any] | None = None,
    yaml_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> RunConfig:
    merged: dict[str, Any] = nest_flat_keys(dict(pack_defaults or {}))
    source = "defaults"
    if yaml_path is not None:
        merged = _deep_merge(merged, nest_flat_keys(read_yaml_config(yaml_path)))
        source = str(yaml_path)
    if overrides:
        merged = _deep_merge(merged, nest_flat_keys(overrides))
        source += " + command-line flags"
    try:
        return RunConfig.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, source)) from None


def load_run_config(text: str) -> RunConfig:
    """A saved config.yaml (nested, or flat from the first release) -> RunConfig."""
    return RunConfig.model_validate(nest_flat_keys(yaml.safe_load(text) or {}))


def config_schema() -> str:
    return json.dumps(RunConfig.model_json_schema(), indent=2)


def dump_config(cfg: RunConfig) -> str:
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)
