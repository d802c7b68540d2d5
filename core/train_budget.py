"""Fit a training run into a time budget on this machine (`training.max_minutes`).

Why: the same recipe takes 8 minutes on a CPU with native bf16 and about 19 without it, so a fixed step count
cannot keep a promise such as the quickstart's 15 minutes on both. Before the first optimizer step, a few
forward + backward passes of the real model on real packed training rows are timed (the gradients are thrown
away), the cost of the dev-loss evaluations is added, and `max_steps` is lowered (never raised) to what fits.
The schedule (warm-up, decay) is then built for the steps that will really run, which stopping early would not
give. The chosen steps go into the saved run config, so a resume keeps the same schedule."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

from core.config import TrainingSettings
from core.errors import ConfigError

TIMED_MICRO_BATCHES = 2  # after one untimed warm-up pass
# optimizer step, data loading, logging and checkpoints on top of the timed passes: the quickstart on an fp32 AMD
# EPYC ran 10.76 s per step against 9.33 s of timed passes (2026-12-02)
OVERHEAD = 1.15
EVAL_PASS_FRACTION = 1 / 3  # a forward pass costs about a third of forward + backward


@dataclass
class BudgetFit:
    budget_minutes: float
    seconds_per_step: float
    seconds_per_eval: float
    probe_seconds: float
    steps_per_epoch: int
    planned_steps: int
    fitted_steps: int

    @property
    def shortened(self) -> bool:
        return self.fitted_steps < self.planned_steps

    @property
    def epochs(self) -> float:
        return round(self.fitted_steps / max(self.steps_per_epoch, 1), 2)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "epochs": self.epochs, "shortened": self.shortened}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BudgetFit:
        return cls(**{f.name: data[f.name] for f in fields(cls)})

    def message(self) -> str:
        head = f"time budget {self.budget_minutes:g} min: one optimizer step takes {self.seconds_per_step:.1f} s here"
        if not self.shortened:
            return f"{head}; all {self.planned_steps} planned steps fit"
        return (
            f"{head}; training shortened to {self.fitted_steps} of {self.planned_steps} planned steps "
            f"({self.epochs:g} epochs)"
        )


def planned_steps(rows: int, training: TrainingSettings, world_size: int = 1) -> tuple[int, int]:
    """(steps per epoch, planned optimizer steps) for `rows` packed training rows under these settings: max_steps
    when set, else the epochs' steps raised to `min_steps` (a small data set gets more passes)."""
    per_step = training.batch_size * training.grad_accum * world_size
    per_epoch = max(1, math.ceil(rows / per_step))
    if training.max_steps > 0:
        return per_epoch, training.max_steps
    return per_epoch, max(math.ceil(per_epoch * training.epochs), training.min_steps)


def time_passes(trainer: Any, passes: int) -> list[float]:
    """Seconds of forward + backward for each of the first `passes` training micro-batches, under the trainer's
    own autocast. Gradients are discarded: nothing is learned from the probe."""
    model = trainer.model
    model.train()
    loader = trainer.get_train_dataloader()
    device = trainer.args.device
    seconds: list[float] = []
    tokens_before = getattr(trainer, "_total_train_tokens", None)
    for _, batch in zip(range(passes), loader, strict=False):
        inputs = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
        start = time.perf_counter()
        with trainer.accelerator.autocast():
            loss = trainer.compute_loss(model, inputs)  # the loss the optimizer steps will run
        loss.backward()
        seconds.append(time.perf_counter() - start)
        model.zero_grad(set_to_none=True)
    if tokens_before is not None:  # the probe's tokens and metrics are not part of training's log
        trainer._total_train_tokens = tokens_before
        trainer._metrics["train"].clear()
    return seconds


def _min_across_processes(value: int) -> int:
    """Every rank must run the same number of steps, or the collective operations hang."""
    import torch

    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        return value
    tensor = torch.tensor([value], dtype=torch.long)
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MIN)
    return int(tensor.item())


def fit_to_budget(trainer: Any, training: TrainingSettings, *, world_size: int = 1) -> BudgetFit:
    """Measure this machine's step time and set `trainer.args.max_steps` to the steps that fit the budget."""
    budget = training.max_minutes
    if budget is None:
        raise ValueError("fit_to_budget needs training.max_minutes")
    started = time.perf_counter()
    passes = time_passes(trainer, 1 + TIMED_MICRO_BATCHES)
    micro = statistics.median(passes[1:] or passes)
    step = micro * training.grad_accum * OVERHEAD
    eval_rows = len(trainer.eval_dataset) if trainer.eval_dataset is not None else 0
    per_eval = eval_rows * micro * EVAL_PASS_FRACTION
    probe = time.perf_counter() - started
    per_epoch, planned = planned_steps(len(trainer.train_dataset), training, world_size)
    remaining = budget * 60 - probe
    per_step_total = step + (per_eval / training.eval_steps if eval_rows else 0.0)
    fitted = _min_across_processes(min(planned, int(remaining // per_step_total)))
    if fitted < 1:
        raise ConfigError(
            f"training.max_minutes={budget:g} fits no optimizer step on this machine (one step takes "
            f"{step:.1f} s, the timing probe took {probe:.0f} s); raise the budget or lower max_length"
        )
    if fitted < planned:
        trainer.args.max_steps = fitted
    return BudgetFit(
        budget_minutes=budget,
        seconds_per_step=round(step, 2),
        seconds_per_eval=round(per_eval, 2),
        probe_seconds=round(probe, 1),
        steps_per_epoch=per_epoch,
        planned_steps=planned,
        fitted_steps=fitted,
    )
