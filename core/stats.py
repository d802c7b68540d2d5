"""Uncertainty of held-out scores: a seeded, paired percentile bootstrap over examples. Every system is scored on
the same resampled example sets, so the difference between two systems has its own interval; a difference whose
95% interval spans 0 is a tie."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

Scorer = Callable[[np.ndarray], float]  # indices into the held-out examples -> the headline metric on them


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def resample_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """resamples x n indices drawn with replacement (seeded, so a report can be reproduced)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def percentile_interval(estimate: float, samples: np.ndarray, confidence: float = 0.95) -> Interval:
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return Interval(float(estimate), float(low), float(high))


@dataclass
class Bootstrap:
    """The headline of every system on the full set and on each resample (same resamples for all systems)."""

    estimates: dict[str, float]
    samples: dict[str, np.ndarray]
    resamples: int
    seed: int
    confidence: float = 0.95

    def interval(self, name: str) -> Interval:
        return percentile_interval(self.estimates[name], self.samples[name], self.confidence)

    def difference(self, a: str, b: str) -> Interval:
        """a - b, paired over the same resamples."""
        return percentile_interval(
            self.estimates[a] - self.estimates[b], self.samples[a] - self.samples[b], self.confidence
        )


def paired_bootstrap(
    scorers: Mapping[str, Scorer], n: int, *, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Bootstrap:
    indices = resample_indices(n, resamples, seed)
    everything = np.arange(n)
    estimates = {name: float(score(everything)) for name, score in scorers.items()}
    samples = {name: np.array([score(idx) for idx in indices], dtype=float) for name, score in scorers.items()}
    return Bootstrap(estimates, samples, resamples, seed, confidence)


def mean_scorer(values: np.ndarray | list[float]) -> Scorer:
    """For a metric that is the mean of per-example values (accuracy, a rate)."""
    arr = np.asarray(values, dtype=float)
    return lambda idx: float(arr[idx].mean()) if len(idx) else 0.0


def ratio_scorer(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> Scorer:
    """Micro-F1 from per-example true positive, false positive and false negative counts."""
    tp, fp, fn = (np.asarray(x, dtype=float) for x in (tp, fp, fn))

    def score(idx: np.ndarray) -> float:
        t, p, n = tp[idx].sum(), fp[idx].sum(), fn[idx].sum()
        return float(2 * t / (2 * t + p + n)) if (2 * t + p + n) else 0.0

    return score


def macro_f1_scorer(predictions: list[str | None], references: list[str], labels: list[str]) -> Scorer:
    """Macro-F1 over the labels present in a resample's references or predictions (core.metrics.classification's
    definition); an answer outside the label set is wrong and not a class."""
    index = {lab: i for i, lab in enumerate(labels)}
    k = len(labels)
    ref = np.array([index.get(r, k) for r in references])
    pred = np.array([index.get(p, k) if p is not None else k for p in predictions])  # k = invalid

    def score(idx: np.ndarray) -> float:
        r, p = ref[idx], pred[idx]
        cm = np.bincount(r * (k + 1) + p, minlength=(k + 1) ** 2).reshape(k + 1, k + 1)[:k, :k]
        tp = np.diag(cm).astype(float)
        ref_count = np.bincount(r, minlength=k + 1)[:k]
        pred_count = np.bincount(p, minlength=k + 1)[:k]
        present = (ref_count + pred_count) > 0
        if not present.any():
            return 0.0
        denom = ref_count + pred_count
        f1 = np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)
        return float(f1[present].mean())

    return score
