"""Which system to ship, and whether fine-tuning was worth it, decided by one written rule (README, "The verdict"):

1. The best system is the one with the highest headline score on the held-out examples.
2. Every other system is compared with the best by the paired bootstrap: when the 95% interval of the difference
   (best - other) includes 0, the two are tied.
3. Ship the cheapest system among the best and those tied with it: tier first (nearest example < classical model <
   base model zero-shot < base model few-shot < fine-tuned), then the measured speed.
4. Fine-tuning is worth it when the system shipped is fine-tuned; it is not needed when a system without
   fine-tuning is shipped (it wins, or ties the fine-tuned one and is cheaper).

The sentence contrasts the shipped system with the runner-up from the other side of that line (the best
fine-tuned system when the shipped one is not fine-tuned, and vice versa)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.stats import Bootstrap

TIERS = {"nearest": 0, "classical": 1, "zero_shot": 2, "few_shot": 3, "few_shot_random": 3, "tuned": 4}
RULE = (
    "highest headline wins; a system whose paired 95% bootstrap interval of the difference from the best includes 0 "
    "ties it; among the best and its ties the cheapest ships (nearest < classical < zero-shot < few-shot < "
    "fine-tuned, then measured speed); fine-tuning is worth it only when a fine-tuned system ships"
)


@dataclass(frozen=True)
class Candidate:
    name: str
    tier: int
    tuned: bool
    examples_per_second: float | None = None


def candidate(name: str, description: Mapping[str, Any], examples_per_second: float | None) -> Candidate:
    """Tier and fine-tuned-ness of a scored system, from its description (System.describe())."""
    tuned = description.get("weights") == "tuned"
    family = "tuned" if tuned else description.get("tier") or description.get("prompting") or name.split("+")[0]
    return Candidate(name, TIERS.get(str(family), 3), tuned, examples_per_second)


METRIC_LABELS = {"macro_f1": "macro-F1", "micro_f1": "micro-F1", "brand_voice": "brand voice"}


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def _label(c: Candidate) -> str:
    return c.name.replace("_", "-")


def decide(candidates: list[Candidate], boot: Bootstrap, metric: str) -> dict[str, Any]:
    scored = [c for c in candidates if c.name in boot.estimates]
    if not scored:
        return {"rule": RULE, "ship": None, "sentence": "no system was scored"}
    best = max(scored, key=lambda c: boot.estimates[c.name])
    comparisons = []
    tied = [best]
    for c in scored:
        if c is best:
            continue
        diff = boot.difference(best.name, c.name)
        tie = not diff.excludes_zero
        comparisons.append({"system": c.name, "best_minus_this": diff.as_dict(), "tie": tie})
        if tie:
            tied.append(c)
    ship = min(tied, key=lambda c: (c.tier, -(c.examples_per_second or 0.0)))
    others = [c for c in scored if c.tuned != ship.tuned]
    runner = max(others, key=lambda c: boot.estimates[c.name]) if others else None
    if runner is None:
        fine_tuning = "not scored" if not ship.tuned else "no baseline scored"
    else:
        fine_tuning = "worth it" if ship.tuned else "not needed"
    sentence = _sentence(ship, best, runner, boot, metric, fine_tuning)
    return {
        "rule": RULE,
        "ship": ship.name,
        "best": best.name,
        "tied_with_best": [c.name for c in tied if c is not best],
        "runner_up": runner.name if runner else None,
        "fine_tuning": fine_tuning,
        "sentence": sentence,
        "comparisons": comparisons,
        "bootstrap": {"resamples": boot.resamples, "seed": boot.seed, "confidence": boot.confidence},
    }


def _fmt(boot: Bootstrap, name: str) -> str:
    i = boot.interval(name)
    return f"{i.estimate:.2f} [{i.low:.2f}, {i.high:.2f}]"


def _sentence(
    ship: Candidate, best: Candidate, runner: Candidate | None, boot: Bootstrap, metric: str, fine_tuning: str
) -> str:
    """When a fine-tuned system ships, every system tied with the best is fine-tuned too (anything cheaper would
    ship instead), so the best is compared with the best system without fine-tuning."""
    metric = metric_label(metric)
    if runner is None:
        return f"{_label(ship)} wins: {metric} {_fmt(boot, ship.name)}; fine-tuning {fine_tuning}"
    lead = best if ship.tuned else ship
    diff = boot.difference(lead.name, runner.name)
    versus = f"{metric} {_fmt(boot, lead.name)} vs {_label(runner)} {_fmt(boot, runner.name)}"
    gap = f"(difference {diff.estimate:+.2f} [{diff.low:+.2f}, {diff.high:+.2f}])"
    if ship.tuned:
        also = f"; {_label(ship)} ties it and is faster, so it ships" if ship is not best else ""
        return f"{_label(best)} wins: {versus} {gap}{also}; fine-tuning is worth it for this data"
    if diff.excludes_zero:
        return f"{_label(ship)} wins: {versus} {gap}; fine-tuning is not needed for this data"
    return f"{_label(ship)} ties {_label(runner)} and is cheaper: {versus} {gap}; fine-tuning is not needed"
