"""Score what each system answers on the held-out split, in four steps: choose the examples, run each system,
score its answers with the pack's metrics, write predictions and results. A malformed output counts as wrong."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core import metrics
from core.config import RunConfig
from core.errors import ParseError, RunError
from core.loaded_run import load_run_pack, open_run
from core.machine import machine_info
from core.pack import Example, Pack
from core.progress import progress_bar
from core.results import RunResults, SystemScores
from core.run_folder import RunFolder
from core.systems import Answer, System, SystemContext, plan_systems


def choose_examples(
    test: Sequence[Example], cfg: RunConfig, max_examples: int | None = None
) -> tuple[list[Example], str]:
    """The held-out examples to score and why those: all of them, or a seeded sample (not the first rows, which
    are often one contract) when a cap is set."""
    limit = max_examples or cfg.evaluation.max_eval_examples
    if limit is not None and len(test) > limit:
        keep = set(random.Random(cfg.seed).sample(range(len(test)), limit))
        chosen = [ex for i, ex in enumerate(test) if i in keep]
        return chosen, f"a seeded sample of {limit} of the {len(test)} held-out examples (cap {limit})"
    return list(test), f"all {len(test)} held-out examples"


@dataclass
class SystemRun:
    system: System
    answers: list[Answer]
    seconds: float


def run_system(system: System, ctx: SystemContext, examples: Sequence[Example], *, show_progress: bool) -> SystemRun:
    with progress_bar(f"{system.name:<24}", len(examples), show_progress) as advance:
        ctx.progress = advance
        started = time.perf_counter()
        answers = system.answer(ctx, examples)
        seconds = time.perf_counter() - started
    if len(answers) != len(examples):
        raise RunError(f"system {system.name} returned {len(answers)} answers for {len(examples)} examples")
    return SystemRun(system, answers, seconds)


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


def score_run(pack: Pack, run: SystemRun, examples: Sequence[Example]) -> tuple[SystemScores, list[dict[str, Any]]]:
    """The pack's metrics on one system's answers, plus the rows of its predictions file."""
    texts = [a.text for a in run.answers]
    parsed, errors = parse_outputs(pack, texts)
    scores = pack.metrics(parsed, [ex.reference for ex in examples], inputs=[ex.text for ex in examples])
    if pack.output_json_schema() is not None and pack.allowed_outputs() is None:
        scores["json_valid_rate"] = metrics.json_valid_rate(texts)
    result = SystemScores(
        system=run.system.describe(),
        headline=scores.get(pack.headline_metric),
        examples_per_second=len(examples) / run.seconds if run.seconds else None,
        generated_tokens=sum(a.new_tokens for a in run.answers),
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
    return result, rows


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


def evaluate_run(
    run_dir: str | Path | RunFolder,
    *,
    systems: Sequence[str] | None = None,
    max_examples: int | None = None,
    show_progress: bool = True,
) -> RunResults:
    """Evaluate a run folder's systems on its held-out split; update results.json and return it."""
    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder.open(run_dir)
    cfg = folder.load_config()
    pack = load_run_pack(folder, cfg)
    examples, chosen_how = choose_examples(folder.load_split("test"), cfg, max_examples)
    if not examples:
        raise RunError(f"{folder.path}: the held-out split is empty; nothing to evaluate")
    tuned = folder.has_adapter()
    names = list(systems) if systems else cfg.evaluation.systems
    if systems and any(n.startswith("tuned") for n in systems) and not tuned:
        raise RunError(f"{folder.path}: no adapter yet (train first, or leave 'tuned' out of the systems)")
    plan, skipped = plan_systems(
        names, pack, tuned_available=tuned, constrained=cfg.evaluation.constrained and not systems
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
    scored: dict[str, SystemScores] = {}
    for system in plan:
        run = run_system(system, ctx, examples, show_progress=show_progress)
        scored[system.name], rows = score_run(pack, run, examples)
        folder.write_predictions(system.name, rows)

    def record(results: RunResults) -> None:
        results.systems.update(scored)
        if metric_models is not None:
            results.metric_models = metric_models
        results.pack = pack.name
        results.headline_metric = pack.headline_metric
        results.test_examples = len(examples)
        results.base_model = cfg.model.base_model
        results.machine = machine_info()
        results.evaluated_at = time.strftime("%Y-%m-%d %H:%M:%S")
        results.evaluation = {"examples": chosen_how, "systems_left_out": skipped}

    return folder.update_results(record)
