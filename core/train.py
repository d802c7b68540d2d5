"""Supervised fine-tuning with LoRA / QLoRA on trl's SFTTrainer: completion-only loss, padding-free packing,
bf16 autocast where the hardware has it, checkpoints with resume, early stopping and a JSONL log.

Runs unchanged under `accelerate launch` (each rank trains; rank 0 writes the adapter).
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import LoraSettings, RunConfig, TrainingSettings
from core.errors import ConfigError
from core.formatting import tokenize_example
from core.pack import Example, Pack
from core.run_folder import RunFolder, is_main_process

log = logging.getLogger(__name__)


@dataclass
class TokenStats:
    examples: int = 0
    tokens: int = 0
    supervised_tokens: int = 0
    truncated: int = 0
    dropped_too_long: int = 0
    dropped_ids: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        import numpy as np

        lens = np.array(self.lengths or [0])
        return {
            "examples": self.examples,
            "tokens": self.tokens,
            "supervised_tokens": self.supervised_tokens,
            "inputs_truncated_to_fit_max_length": self.truncated,
            "dropped_too_long": self.dropped_too_long,
            "dropped_ids": self.dropped_ids[:50],
            "length_tokens": {
                "min": int(lens.min()),
                "mean": round(float(lens.mean()), 1),
                "p95": int(np.percentile(lens, 95)),
                "max": int(lens.max()),
            },
        }


def tokenize_examples(
    tokenizer: Any,
    pack: Pack,
    examples: Sequence[Example],
    max_length: int,
    prompt_for: Callable[[Example], Any] | None = None,
) -> tuple[Any, TokenStats]:
    """Examples -> a datasets.Dataset of input_ids + completion_mask, with every truncation counted. `prompt_for`
    builds each prompt (core.prompts.adapter_prompt); default: the pack's full prompt."""
    from datasets import Dataset

    prompt_for = prompt_for or pack.prompt_messages
    stats = TokenStats()
    rows: dict[str, list[Any]] = {"input_ids": [], "completion_mask": []}
    for ex in examples:
        try:
            tok = tokenize_example(tokenizer, prompt_for(ex), ex.target, max_length)
        except ValueError:
            stats.dropped_too_long += 1
            stats.dropped_ids.append(ex.id)
            continue
        stats.examples += 1
        stats.tokens += len(tok.input_ids)
        stats.supervised_tokens += tok.supervised_tokens
        stats.truncated += int(tok.truncated)
        stats.lengths.append(len(tok.input_ids))
        rows["input_ids"].append(tok.input_ids)
        rows["completion_mask"].append(tok.completion_mask)
    return Dataset.from_dict(rows), stats


class JsonlLogCallback:
    """Append every trainer log (loss, lr, eval metrics) to train_log.jsonl as it happens."""

    def __new__(cls, path: Path):  # built lazily so importing core.train does not import transformers
        from transformers import TrainerCallback

        class _Callback(TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kwargs):
                if logs and state.is_world_process_zero:
                    with path.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps({"step": state.global_step, "epoch": state.epoch, **logs}) + "\n")

        return _Callback()


def generation_eval_callback(
    pack: Pack,
    examples: Sequence[Example],
    tokenizer: Any,
    cfg: RunConfig,
    precision: str,
    log_path: Path,
    prompt_for: Callable[[Example], Any] | None = None,
) -> Any:
    """At every evaluation, generate on a few dev examples and score them with the pack's own metric, so early
    stopping and the kept checkpoint can follow what users care about rather than eval loss alone."""
    from transformers import TrainerCallback

    from core.evaluation import parse_outputs
    from core.generate import Decoding, Generator
    from core.loaded_run import prompt_budget

    metric = f"eval_{pack.headline_metric}"
    prompts = [(prompt_for or pack.prompt_messages)(e) for e in examples]
    refs = [e.reference for e in examples]

    class _GenerationEval(TrainerCallback):
        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            if model is None or metrics is None:
                return
            budget = prompt_budget(cfg, getattr(model, "config", None))  # the same budget every inference caller uses
            generator = Generator(model, tokenizer, max_length=budget, precision=precision)
            outs = generator.generate(
                prompts,
                **Decoding.for_run(pack, cfg).kwargs(),
                batch_size=cfg.evaluation.eval_batch_size,
                batch_tokens=cfg.evaluation.eval_batch_tokens,
            )
            parsed, _ = parse_outputs(pack, [o.text for o in outs])
            scores = pack.metrics(parsed, refs)
            metrics[metric] = float(scores[pack.headline_metric])
            metrics["eval_parse_rate"] = float(scores.get("parse_rate", 0.0))
            if state.is_world_process_zero:
                with log_path.open("a", encoding="utf-8") as fh:
                    fh.write(
                        json.dumps(
                            {
                                "step": state.global_step,
                                "epoch": state.epoch,
                                metric: metrics[metric],
                                "eval_parse_rate": metrics["eval_parse_rate"],
                                "eval_generation_examples": len(prompts),
                            }
                        )
                        + "\n"
                    )

    return _GenerationEval()


def best_metric(training: TrainingSettings, pack: Pack) -> tuple[str, bool]:
    """(metric_for_best_model, greater_is_better)."""
    if training.best_checkpoint_metric == "headline" and training.eval_generation_examples > 0:
        return f"eval_{pack.headline_metric}", True
    return "eval_loss", False


def lora_config(lora: LoraSettings, model: Any = None) -> Any:
    """peft's LoraConfig; with `top_layers`, the model's block count and linear module names are read from `model`
    (peft accepts a layer list only with named target modules, not 'all-linear')."""
    from peft import LoraConfig

    targets: str | list[str] = lora.target_modules
    layers: list[int] | None = None
    if lora.top_layers is not None:
        if model is None:
            raise ValueError("lora.top_layers needs the model to count its blocks")
        from core.lora_layers import block_count, linear_module_names

        total = block_count(model)
        if lora.top_layers > total:
            raise ConfigError(f"lora.top_layers={lora.top_layers} but the model has {total} transformer blocks")
        layers = list(range(total - lora.top_layers, total))
        if targets == "all-linear":
            targets = linear_module_names(model)
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=targets,
        layers_to_transform=layers,
        task_type="CAUSAL_LM",
        bias="none",
    )


def sft_config(
    training: TrainingSettings,
    checkpoints_dir: Path,
    *,
    seed: int,
    precision: str,
    has_dev: bool,
    best: tuple[str, bool] = ("eval_loss", False),
    trust_remote_code: bool = False,
) -> Any:
    """The one place the run config is mapped onto trl's SFTConfig."""
    from trl import SFTConfig

    keep_best = has_dev and (training.early_stopping_patience is not None or best[0] != "eval_loss")
    return SFTConfig(
        output_dir=str(checkpoints_dir),
        num_train_epochs=training.epochs,
        max_steps=training.max_steps,
        learning_rate=training.learning_rate,
        lr_scheduler_type=training.lr_scheduler,
        warmup_steps=training.warmup_ratio,
        weight_decay=training.weight_decay,
        per_device_train_batch_size=training.batch_size,
        per_device_eval_batch_size=training.batch_size,
        gradient_accumulation_steps=training.grad_accum,
        gradient_checkpointing=training.gradient_checkpointing,
        neftune_noise_alpha=training.neftune_noise_alpha,
        bf16=precision == "bf16",
        fp16=precision == "fp16",
        use_cpu=not _cuda(),
        max_length=training.max_length,
        packing=training.packing,
        packing_strategy="bfd",
        completion_only_loss=True,
        eval_strategy="steps" if has_dev else "no",
        eval_steps=training.eval_steps,
        save_strategy="steps",
        save_steps=training.save_steps,
        save_total_limit=2,
        load_best_model_at_end=keep_best,
        metric_for_best_model=best[0] if keep_best else None,
        greater_is_better=best[1] if keep_best else None,
        logging_steps=training.logging_steps,
        logging_first_step=True,
        report_to="none",
        seed=seed,
        data_seed=seed,
        dataloader_num_workers=0,
        remove_unused_columns=True,
        trust_remote_code=trust_remote_code,
        disable_tqdm=False,
    )


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


@dataclass
class TrainResult:
    adapter_dir: Path
    train_runtime_s: float
    global_step: int
    train_tokens: TokenStats
    dev_tokens: TokenStats
    tokens_per_second: float
    supervised_tokens_per_second: float
    final_train_loss: float | None
    best_eval_loss: float | None
    resumed_from: str | None
    best_checkpoint: str | None = None
    best_metric: dict[str, Any] | None = None
    time_budget: dict[str, Any] | None = None
    shared_prefix: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "adapter_dir": str(self.adapter_dir),
            "train_runtime_s": round(self.train_runtime_s, 2),
            "global_step": self.global_step,
            "train_tokens": self.train_tokens.summary(),
            "dev_tokens": self.dev_tokens.summary(),
            "tokens_per_second": round(self.tokens_per_second, 1),
            "supervised_tokens_per_second": round(self.supervised_tokens_per_second, 1),
            "final_train_loss": self.final_train_loss,
            "best_eval_loss": self.best_eval_loss,
            "resumed_from": self.resumed_from,
            "best_checkpoint": self.best_checkpoint,
            "best_metric": self.best_metric,
            "time_budget": self.time_budget,
            "shared_prefix": self.shared_prefix,
        }


@dataclass
class PreparedTrainer:
    trainer: Any
    tokenizer: Any
    train_stats: TokenStats
    dev_stats: TokenStats
    shared_prefix: Any = None  # core.shared_prefix.SharingStats when rows share their prompt prefix


def build_trainer(
    pack: Pack,
    cfg: RunConfig,
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    folder: RunFolder,
    *,
    model_path: str,
    precision: str,
    quantization: str,
    extra_callbacks: Sequence[Any] = (),
) -> PreparedTrainer:
    """Tokenized data, the model (LoRA / QLoRA) and trl's SFTTrainer, exactly as `vft train` runs them."""
    import torch
    from transformers import EarlyStoppingCallback

    from core.completion_loss import completion_trainer_class
    from core.models import load_model, load_tokenizer

    training, remote = cfg.training, cfg.model.trust_remote_code
    if cfg.model.threads:
        torch.set_num_threads(cfg.model.threads)
    tokenizer = load_tokenizer(model_path, trust_remote_code=remote)
    from core.prompts import adapter_prompt

    retriever = None
    if training.retrieval_k:
        from core.fewshot import Retriever

        retriever = Retriever(train_examples)

    def train_prompt(ex: Example) -> Any:
        return adapter_prompt(pack, cfg, ex, retriever, exclude_self=True)

    def dev_prompt(ex: Example) -> Any:
        return adapter_prompt(pack, cfg, ex, retriever)

    train_views, dev_views = pack.training_views(train_examples), pack.training_views(dev_examples)
    train_ds, train_stats = tokenize_examples(tokenizer, pack, train_views, training.max_length, train_prompt)
    dev_ds, dev_stats = tokenize_examples(tokenizer, pack, dev_views, training.max_length, dev_prompt)
    if train_stats.examples == 0:
        raise ConfigError(
            f"none of the {train_stats.dropped_too_long} training examples fits max_length={training.max_length} "
            "tokens (prompt + answer); raise max_length"
        )
    model = load_model(model_path, quantization=quantization, precision=precision, trust_remote_code=remote)
    packed_sdpa = False
    if training.packing:
        from core.packed_attention import use_for_packed_training

        packed_sdpa = use_for_packed_training(model)
    if quantization == "4bit":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=training.gradient_checkpointing)
    best = best_metric(training, pack)
    args = sft_config(
        training,
        folder.checkpoints_dir,
        seed=cfg.seed,
        precision=precision,
        has_dev=len(dev_ds) > 0,
        best=best,
        trust_remote_code=remote,
    )
    callbacks: list[Any] = [JsonlLogCallback(folder.train_log_path), *extra_callbacks]
    if training.eval_generation_examples and len(dev_examples):
        subset = list(dev_examples)[: training.eval_generation_examples]
        callbacks.append(
            generation_eval_callback(pack, subset, tokenizer, cfg, precision, folder.train_log_path, dev_prompt)
        )
    if args.load_best_model_at_end and training.early_stopping_patience is not None:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=training.early_stopping_patience))
    trainer = completion_trainer_class()(
        model=model,
        args=args,
        train_dataset=train_ds,
        eval_dataset=dev_ds if len(dev_ds) else None,
        processing_class=tokenizer,
        peft_config=lora_config(cfg.lora, model),
        callbacks=callbacks,
    )
    sharing = None
    if packed_sdpa and training.share_prompt_prefix:
        from core.shared_prefix import share_prompt_prefix

        sharing = share_prompt_prefix(trainer)
    return PreparedTrainer(trainer, tokenizer, train_stats, dev_stats, sharing)


def train(
    pack: Pack,
    cfg: RunConfig,
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    run_dir: Path | RunFolder,
    *,
    model_path: str,
    precision: str,
    quantization: str,
    resume: bool = False,
) -> TrainResult:
    """Fine-tune a LoRA adapter on the training split and write it (with tokenizer and chat template) to
    run_dir/adapter atomically. With resume, continue from the newest complete checkpoint."""
    import torch

    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder(run_dir)
    training = cfg.training
    prepared = build_trainer(
        pack,
        cfg,
        train_examples,
        dev_examples,
        folder,
        model_path=model_path,
        precision=precision,
        quantization=quantization,
    )
    trainer, tokenizer, train_stats, dev_stats = (
        prepared.trainer,
        prepared.tokenizer,
        prepared.train_stats,
        prepared.dev_stats,
    )
    if prepared.shared_prefix and is_main_process():
        with folder.train_log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"step": 0, "event": "shared_prefix", **prepared.shared_prefix.to_json()}) + "\n")
    ckpt = folder.last_checkpoint() if resume else None
    if training.min_steps and ckpt is None:
        _raise_to_min_steps(trainer, cfg, folder)
    budget = None
    if training.max_minutes is not None and ckpt is None:
        budget = _fit_to_budget(trainer, cfg, folder)
    started = time.time()
    output = trainer.train(resume_from_checkpoint=str(ckpt) if ckpt else None)
    runtime = time.time() - started
    state = trainer.state
    epochs_done = state.epoch or training.epochs
    tokens_seen = train_stats.tokens * epochs_done
    supervised_seen = train_stats.supervised_tokens * epochs_done
    if ckpt is not None:  # only the part trained in this process counts toward speed
        done_before = int(ckpt.name.split("-")[-1]) / max(state.max_steps, 1)
        tokens_seen *= 1 - done_before
        supervised_seen *= 1 - done_before
    eval_losses = [h["eval_loss"] for h in state.log_history if "eval_loss" in h]
    target = folder.adapter_dir
    if is_main_process():
        folder.save_adapter(trainer.model, tokenizer, base_model=cfg.model.base_model)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
    return TrainResult(
        adapter_dir=target,
        train_runtime_s=runtime,
        global_step=state.global_step,
        train_tokens=train_stats,
        dev_tokens=dev_stats,
        tokens_per_second=tokens_seen / max(runtime, 1e-9),
        supervised_tokens_per_second=supervised_seen / max(runtime, 1e-9),
        final_train_loss=output.training_loss,
        best_eval_loss=min(eval_losses) if eval_losses else None,
        resumed_from=str(ckpt) if ckpt else None,
        best_checkpoint=state.best_model_checkpoint,
        best_metric={"name": trainer.args.metric_for_best_model, "value": state.best_metric}
        if trainer.args.load_best_model_at_end
        else None,
        time_budget=budget.to_json() if budget else None,
        shared_prefix=prepared.shared_prefix.to_json() if prepared.shared_prefix else None,
    )


def _raise_to_min_steps(trainer: Any, cfg: RunConfig, folder: RunFolder) -> None:
    """A small data set trains for `min_steps` optimizer steps instead of its epochs' few; the steps go into the
    saved run config (a resume keeps the schedule) and the log."""
    from core.train_budget import planned_steps

    per_epoch, planned = planned_steps(len(trainer.train_dataset), cfg.training, world_size())
    if cfg.training.max_steps > 0 or planned <= math.ceil(per_epoch * cfg.training.epochs):
        return
    trainer.args.max_steps = planned
    cfg.training.max_steps = planned
    log.warning(
        "small training set: %d steps per epoch x %g epochs < min_steps; training for %d steps (%.1f epochs)",
        per_epoch, cfg.training.epochs, planned, planned / per_epoch,
    )  # fmt: skip
    if is_main_process():
        folder.save_config(cfg)
        with folder.train_log_path.open("a", encoding="utf-8") as fh:
            event = {"step": 0, "event": "min_steps", "steps_per_epoch": per_epoch, "steps": planned}
            fh.write(json.dumps(event) + "\n")


def _fit_to_budget(trainer: Any, cfg: RunConfig, folder: RunFolder) -> Any:
    """Lower max_steps to what the time budget allows here, and save it in the run config so that a resume
    builds the same schedule."""
    from core.train_budget import fit_to_budget

    fit = fit_to_budget(trainer, cfg.training, world_size=world_size())
    log.warning(fit.message())
    if is_main_process():
        if fit.shortened:
            cfg.training.max_steps = fit.fitted_steps
            folder.save_config(cfg)
        with folder.train_log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"step": 0, "event": "time_budget", **fit.to_json()}) + "\n")
    return fit


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))
