"""`tuned+classical`: the fine-tuned model's label probabilities (label scoring) pooled with the classical baseline's,
log-linearly, with the weight chosen on the dev split by the pack's headline metric. A 135M model and a TF-IDF
classifier err on different examples; when they tie, pooling is the cheapest way to find out whether together they
beat both. Weight 0 is the classical model alone and 1 the fine-tuned one alone, so on dev the pool can only match
or beat the better of the two; on held-out data it is measured like every other system."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from core.baselines import MIN_DEV, ClassicalSystem
from core.pack import Example, Pack, TaskKind
from core.systems import Answer, OutputMode, PromptedSystem, Prompting, System, SystemContext, Weights, register

TUNED_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # share of the fine-tuned model in the pool
_FLOOR = 1e-9  # a label one model gives probability 0 is still ranked by the other


def _no_progress(_: float) -> None:
    return None


def pool(tuned: dict[str, float], classical: dict[str, float], weight: float) -> dict[str, float]:
    """Normalised p_tuned^w * p_classical^(1-w) over the labels either model knows."""
    labels = sorted(set(tuned) | set(classical))
    logs = [
        weight * math.log(max(tuned.get(label, 0.0), _FLOOR))
        + (1 - weight) * math.log(max(classical.get(label, 0.0), _FLOOR))
        for label in labels
    ]
    top = max(logs)
    exp = [math.exp(v - top) for v in logs]
    total = sum(exp)
    return {label: e / total for label, e in zip(labels, exp, strict=True)}


def best_label(probabilities: dict[str, float]) -> str:
    return max(sorted(probabilities), key=probabilities.__getitem__)


class PooledSystem(System):
    name = "tuned+classical"

    def __init__(self) -> None:
        self.classical = ClassicalSystem()
        self.tuned = PromptedSystem(Prompting.ZERO_SHOT, Weights.TUNED, OutputMode.SCORED)
        self.weight: float | None = None
        self.chosen: dict[str, Any] = {}

    def describe(self) -> dict[str, Any]:
        return {
            "prompting": "zero_shot",
            "weights": "tuned",
            "decoding": "scored",
            "tier": "pooled",
            "model": "fine-tuned label scoring x TF-IDF + logistic regression, log-linear pool",
            **self.chosen,
        }

    def available(self, pack: Pack, *, tuned_available: bool) -> bool:
        return pack.kind is TaskKind.CLASSIFY and tuned_available and bool(pack.allowed_outputs())

    def prepare(self, ctx: SystemContext) -> float:
        """Fit the classical model, score the dev split with both, keep the weight with the best dev headline (ties:
        the weight nearest an even pool). Fewer than MIN_DEV dev examples: an even pool, said so."""
        started = time.perf_counter()
        self.classical.prepare(ctx)
        ctx.progress = _no_progress  # the dev split is scored before this system's progress bar exists
        if len(ctx.dev) < MIN_DEV:
            self.weight = 0.5
            self.chosen = {"tuned_weight": 0.5, "tuned_weight_chosen_on": "fixed (dev split too small)"}
            return time.perf_counter() - started
        pairs = self._probabilities(ctx, ctx.dev)
        references = [ex.reference for ex in ctx.dev]
        scores = {}
        for w in TUNED_WEIGHTS:
            predictions = [ctx.pack.parse(ctx.pack.format_answer(best_label(pool(t, c, w)))) for t, c in pairs]
            scores[w] = float(ctx.pack.metrics(predictions, references).get(ctx.pack.headline_metric) or 0.0)
        self.weight = max(TUNED_WEIGHTS, key=lambda w: (scores[w], -abs(w - 0.5)))
        self.chosen = {
            "tuned_weight": self.weight,
            "tuned_weight_chosen_on": f"dev split ({len(ctx.dev)} examples)",
            "tuned_weight_scores": {str(w): round(v, 4) for w, v in scores.items()},
        }
        return time.perf_counter() - started

    def _parts(self, ctx: SystemContext, examples: Sequence[Example]) -> list[tuple[Answer, Answer]]:
        """Both models' answers; only the fine-tuned part advances the progress bar (the classical one is instant)."""
        tuned = self.tuned.answer(ctx, examples)
        shown, ctx.progress = ctx.progress, _no_progress
        try:
            classical = self.classical.answer(ctx, examples)
        finally:
            ctx.progress = shown
        return list(zip(tuned, classical, strict=True))

    def _probabilities(
        self, ctx: SystemContext, examples: Sequence[Example]
    ) -> list[tuple[dict[str, float], dict[str, float]]]:
        return [(t.probabilities or {}, c.probabilities or {}) for t, c in self._parts(ctx, examples)]

    def answer(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]:
        if self.weight is None:
            self.prepare(ctx)
        weight = self.weight if self.weight is not None else 0.5
        started = time.perf_counter()
        parts = self._parts(ctx, examples)
        seconds = (time.perf_counter() - started) / max(len(examples), 1)
        answers = []
        for t, c in parts:
            probs = pool(t.probabilities or {}, c.probabilities or {}, weight)
            reused = t.reused_seconds + c.reused_seconds
            text = ctx.pack.format_answer(best_label(probs))
            answers.append(Answer(text, seconds + reused, probabilities=probs, reused_seconds=reused))
        return answers


register("tuned+classical", PooledSystem)
