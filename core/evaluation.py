"""Score what each system answers on the held-out split: choose the examples, run each system, score its answers
with the pack's metrics, put intervals on them, decide the verdict, write predictions and results. A malformed
output counts as wrong.

How many examples: all of the held-out split when it fits the time budget. The language-model systems first answer
the first examples of a seeded order; their measured speed says how many more fit, and the report says how many
were scored and why. Systems that need no model (classical, nearest) run first, so their memory figure is theirs."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core import metrics
from core.config import RunConfig
from core.errors import ParseError, RunError
from core.loaded_run import load_run_pack, open_run
from core.machine import PeakMemory, machine_info
from core.pack import Example, Pack
from core.progress import progress_bar
from core.results import RunResults, SystemScores
from core.run_folder import RunFolder
from core.stats import paired_bootstrap
from core.systems import Answer, System, SystemContext, plan_systems
from core.verdict import candidate, decide

SMALL_HELD_OUT = 50  # fewer scored examples than this: the report warns that small differences are noise


@dataclass
class SystemRun:
    system: System
    answers: list[Answer] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    fit_seconds: float = 0.0


def seeded_order(test: Sequence[Example], seed: int) -> list[int]:
    order = list(range(len(test)))
    random.Random(seed).shuffle(order)
    return order


def run_system(system: System, ctx: SystemContext, examples: Sequence[Example], *, label: str, show: bool) -> SystemRun:
    """One system on some examples, timed, with this process's peak memory while it ran. Answers computed earlier for
    another system and reused here count with the seconds they took, so a system is never faster for coming later."""
    with PeakMemory() as memory:
        fit_seconds = system.prepare(ctx)
        with progress_bar(label, len(examples), show) as advance:
            ctx.progress = advance
            started = time.perf_counter()
            answers = system.answer(ctx, examples) if examples else []
            seconds = time.perf_counter() - started + sum(a.reused_seconds for a in answers)
    if len(answers) != len(examples):
        raise RunError(f"system {system.name} returned {len(answers)} answers for {len(examples)} examples")
    return SystemRun(system, answers, seconds, memory.peak_mb, fit_seconds)


def _merge(a: SystemRun, b: SystemRun) -> SystemRun:
    peak = max(a.peak_rss_mb, b.peak_rss_mb)
    return SystemRun(a.system, a.answers + b.answers, a.seconds + b.seconds, peak, a.fit_seconds)


def choose_and_run(
    plan: list[System], ctx: SystemContext, test: Sequence[Example], cfg: RunConfig, *, cap: int | None, show: bool
) -> tuple[list[Example], dict[str, SystemRun], str]:
    """Run every system on the held-out examples the budget allows; returns them (in test order), the runs, and a
    sentence saying how many were scored and why."""
    order = seeded_order(test, cfg.seed)
    limit = cap or cfg.evaluation.max_eval_examples
    if limit is not None and len(order) > limit:
        order = order[:limit]
        why = f"a seeded sample of {limit} of the {len(test)} held-out examples (max_eval_examples={limit})"
    else:
        why = f"all {len(test)} held-out examples"
    runs: dict[str, SystemRun] = {}
    for s in plan:  # no-model systems first, on every candidate: their memory figure is their own
        if not s.uses_model:
            runs[s.name] = run_system(s, ctx, [test[i] for i in order], label=f"{s.name:<24}", show=show)
    model_systems = [s for s in plan if s.uses_model]
    budget = cfg.evaluation.time_budget_minutes
    staged = bool(model_systems) and budget is not None and len(order) > 2 * cfg.evaluation.eval_batch_size
    if staged:
        first = order[: max(cfg.evaluation.eval_batch_size, 8)]
        for s in model_systems:
            runs[s.name] = run_system(s, ctx, [test[i] for i in first], label=f"{s.name:<24} (1/2)", show=show)
        spent = sum(runs[s.name].seconds for s in model_systems)
        per_example = spent / len(first)
        room = budget * 60 - spent  # type: ignore[operator]
        fits = len(first) + max(0, int(room / per_example)) if per_example > 0 else len(order)
        if fits < len(order):
            why = (
                f"a seeded sample of {fits} of the {len(test)} held-out examples: all of them would take "
                f"~{per_example * len(order) / 60:.0f} min at the measured {per_example:.1f} s per example for the "
                f"{len(model_systems)} model systems; the budget is {budget:g} min (evaluation.time_budget_minutes)"
            )
        rest = order[len(first) : max(fits, len(first))]
        for s in model_systems:
            more = run_system(s, ctx, [test[i] for i in rest], label=f"{s.name:<24} (2/2)", show=show)
            runs[s.name] = _merge(runs[s.name], more)
        order = order[: max(fits, len(first))]
    else:
        for s in model_systems:
            runs[s.name] = run_system(s, ctx, [test[i] for i in order], label=f"{s.name:<24}", show=show)
    chosen = sorted(order)  # every system answered in seeded order; report them in test order
    examples = [test[i] for i in chosen]
    position = {i: k for k, i in enumerate(seeded_order(test, cfg.seed))}  # every run answered a prefix of it
    for name, run in list(runs.items()):
        answers = [run.answers[position[i]] for i in chosen]
        runs[name] = SystemRun(run.system, answers, run.seconds, run.peak_rss_mb, run.fit_seconds)
    return examples, {s.name: runs[s.name] for s in plan}, why


def parse_outputs(pack: Pack, texts: Sequence[str]) -> tuple[list[Any | None], list[str | None]]:
    parsed: list[Any | None] = []
    errors: list[str | None] = []
    for text in texts:
        try:
            parsed.append(pack.parse(text))
            errors.append(None)
        except ParseError as exc:
            parsed.append(None)
            errors.append(str(exc))
    return parsed, errors


def cost(run: SystemRun, n: int) -> dict[str, Any]:
    latencies = np.array([a.latency for a in run.answers] or [0.0])
    return {
        "examples_per_second": n / run.seconds if run.seconds else None,
        "latency_p50_s": float(np.percentile(latencies, 50)),
        "latency_p95_s": float(np.percentile(latencies, 95)),
        "peak_rss_mb": round(run.peak_rss_mb, 1),
        "seconds": round(run.seconds, 2),
        **({"training_seconds": round(run.fit_seconds, 2)} if run.fit_seconds else {}),
        **({"reused_seconds": round(reused, 2)} if (reused := sum(a.reused_seconds for a in run.answers)) else {}),
    }


def score_run(
    pack: Pack, run: SystemRun, examples: Sequence[Example]
) -> tuple[SystemScores, list[dict[str, Any]], list[Any | None]]:
    """The pack's metrics on one system's answers, the rows of its predictions file, and the parsed answers."""
    texts = [a.text for a in run.answers]
    parsed, errors = parse_outputs(pack, texts)
    scores = pack.metrics(parsed, [ex.reference for ex in examples], inputs=[ex.text for ex in examples])
    if pack.output_json_schema() is not None and pack.allowed_outputs() is None:
        scores["json_valid_rate"] = metrics.json_valid_rate(texts)
    spent = cost(run, len(examples))
    result = SystemScores(
        system=run.system.describe(),
        headline=scores.get(pack.headline_metric),
        examples_per_second=spent["examples_per_second"],
        generated_tokens=sum(a.new_tokens for a in run.answers),
        cost=spent,
        **{k: v for k, v in scores.items() if k != "headline"},
    )
    rows = []
    for ex, answer, p, err in zip(examples, run.answers, parsed, errors, strict=True):
        row = {
            "id": ex.id,
            "system": run.system.name,
            "raw": answer.text,
            "parsed": p,
            "parse_error": err,
            "reference": ex.reference,
            "correct": p == ex.reference,
            "prompt_truncated": answer.prompt_truncated,
        }
        if answer.probabilities is not None:
            row["probabilities"] = answer.probabilities
        rows.append(row)
    return result, rows, parsed


def fit_pack_metrics(ctx: SystemContext, folder: RunFolder, *, show_progress: bool) -> dict[str, Any] | None:
    """Packs whose metric learns from the base model's own outputs (e.g. brand voice) get them on a seeded sample
    of training inputs first."""
    pack, cfg = ctx.pack, ctx.config
    if not pack.base_outputs_for_metrics or not ctx.train:
        return None
    shown = random.Random(cfg.seed).sample(ctx.train, min(pack.base_outputs_for_metrics, len(ctx.train)))
    with progress_bar("base model on train (metric)", len(shown), show_progress) as advance:
        gens = ctx.model.generate([pack.prompt_messages(ex) for ex in shown], tuned=False, on_batch=advance)
    folder.write_predictions("base_on_train", ({"id": ex.id, "raw": g.text} for ex, g in zip(shown, gens, strict=True)))
    return pack.fit_metrics(shown, [g.text for g in gens])


def evidence_warnings(n: int, verdict: dict[str, Any]) -> list[str]:
    warnings = []
    if n < SMALL_HELD_OUT:
        widths = [c["best_minus_this"]["high"] - c["best_minus_this"]["low"] for c in verdict.get("comparisons", [])]
        noise = f" (differences must exceed about ±{max(widths) / 2:.2f} to be told apart)" if widths else ""
        warnings.append(f"only {n} held-out examples were scored: too few to separate similar systems{noise}")
    return warnings


def evaluate_run(
    run_dir: str | Path | RunFolder,
    *,
    systems: Sequence[str] | None = None,
    max_examples: int | None = None,
    show_progress: bool = True,
) -> RunResults:
    """Evaluate a run folder's systems on its held-out split; update results.json and return it."""
    started = time.perf_counter()
    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder.open(run_dir)
    cfg = folder.load_config()
    pack = load_run_pack(folder, cfg)
    test = folder.load_split("test")
    if not test:
        raise RunError(f"{folder.path}: the held-out split is empty; nothing to evaluate")
    tuned = folder.has_adapter()
    names = list(systems) if systems else cfg.evaluation.systems
    if systems and any(n.startswith("tuned") for n in systems) and not tuned:
        raise RunError(f"{folder.path}: no adapter yet (train first, or leave 'tuned' out of the systems)")
    plan, skipped = plan_systems(
        names,
        pack,
        tuned_available=tuned,
        constrained=cfg.evaluation.constrained and not systems,
        label_scoring=cfg.evaluation.label_scoring and not systems,
        grounded=cfg.evaluation.grounded and not systems,
    )
    ctx = SystemContext(
        pack=pack,
        config=cfg,
        train=folder.load_split("train"),
        dev=folder.load_split("dev") if folder.has_split("dev") else [],
        open_model=lambda: open_run(folder),
        tuned_available=tuned,
    )
    metric_models = fit_pack_metrics(ctx, folder, show_progress=show_progress)
    examples, runs, chosen_how = choose_and_run(plan, ctx, test, cfg, cap=max_examples, show=show_progress)
    scored: dict[str, SystemScores] = {}
    scorers = {}
    refs, inputs = [ex.reference for ex in examples], [ex.text for ex in examples]
    for name, run in runs.items():
        scored[name], rows, parsed = score_run(pack, run, examples)
        folder.write_predictions(name, rows)
        scorers[name] = pack.headline_scorer(parsed, refs, inputs)
    boot = paired_bootstrap(scorers, len(examples), resamples=cfg.evaluation.bootstrap_resamples, seed=cfg.seed)
    for name, s in scored.items():
        s.interval = boot.interval(name).as_dict()
    training = folder.read_results().training
    if training is not None:
        for s in scored.values():
            if s.system.get("weights") == "tuned" and s.cost is not None:
                s.cost["training_seconds"] = training.train_runtime_s
    verdict = decide(
        [candidate(n, s.system, s.examples_per_second) for n, s in scored.items()], boot, pack.headline_metric
    )
    wall_seconds = time.perf_counter() - started  # model loading, metric models, every system, scoring, bootstrap

    def record(results: RunResults) -> None:
        results.systems = {**{k: v for k, v in results.systems.items() if k not in scored}, **scored}
        if metric_models is not None:
            results.metric_models = metric_models
        results.pack = pack.name
        results.headline_metric = pack.headline_metric
        results.test_examples = len(examples)
        results.base_model = cfg.model.base_model
        results.machine = machine_info()
        results.evaluated_at = time.strftime("%Y-%m-%d %H:%M:%S")
        results.evaluation = {
            "examples": chosen_how,
            "scored": len(examples),
            "held_out": len(test),
            "systems_left_out": skipped,
            "bootstrap_resamples": boot.resamples,
            "wall_seconds": round(wall_seconds, 1),
        }
        results.verdict = verdict
        results.warnings = evidence_warnings(len(examples), verdict)

    return folder.update_results(record)
