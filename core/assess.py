"""`vft assess PACK --data FILE`: the "evaluate necessity" step, before any training. The data is validated and
split exactly as `vft train` would; zero-shot, few-shot, classical and nearest are scored on the held-out split
with intervals; a few optimizer steps of the real training recipe are timed on this machine to estimate what
fine-tuning would cost; the report says "fine-tuning worth trying" or "not needed" by a written rule:

    not needed  when the best system without fine-tuning reaches the target with its whole 95% interval
                (its lower bound >= target);
    worth trying otherwise, with the estimated training time."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.pack import get_pack
from core.privacy import Scrubber
from core.run_folder import RunFolder

PROBE_STEPS = 4  # timed optimizer steps (after one untimed warm-up step)
DEFAULT_TARGET = 0.9


class _StepTimer:
    def __new__(cls) -> Any:  # built lazily so importing this module does not import transformers
        from transformers import TrainerCallback

        class _Timer(TrainerCallback):
            def __init__(self) -> None:
                self.durations: list[float] = []
                self._start = 0.0

            def on_step_begin(self, args, state, control, **kwargs):
                self._start = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                self.durations.append(time.perf_counter() - self._start)

        return _Timer()


def probe_training(
    pack: Any, cfg: RunConfig, folder: RunFolder, *, model_path: str, precision: str, quantization: str
) -> dict[str, Any]:
    """Time PROBE_STEPS optimizer steps of the real recipe on the real training split and extrapolate to the
    configured epochs (or max_steps)."""
    from core.train import build_trainer, world_size
    from core.train_budget import planned_steps

    probe = cfg.model_copy(deep=True)
    probe.training.max_steps = PROBE_STEPS + 1
    probe.training.save_steps = probe.training.eval_steps = 10**9
    probe.training.eval_generation_examples = 0
    timer = _StepTimer()
    with tempfile.TemporaryDirectory() as tmp:
        prepared = build_trainer(
            pack,
            probe,
            folder.load_split("train"),
            [],
            RunFolder(tmp),
            model_path=model_path,
            precision=precision,
            quantization=quantization,
            extra_callbacks=[timer],
        )
        rows = len(prepared.trainer.train_dataset)
        prepared.trainer.train()
    step = statistics.median(timer.durations[1:] or timer.durations)
    _, planned = planned_steps(rows, cfg.training, world_size())
    if cfg.training.max_minutes is not None:  # `vft train` would fit the steps to this budget (core.train_budget)
        planned = max(1, min(planned, int(cfg.training.max_minutes * 60 // step)))
    return {
        "probe_steps": len(timer.durations) - 1,
        "seconds_per_step": round(step, 2),
        "training_rows": rows,
        "planned_steps": planned,
        "estimated_training_minutes": round(planned * step / 60, 1),
        "precision": precision,
        "note": "measured on this machine with the run's config; evaluation time not included",
    }


def assessment(results: Any, target: float, probe: dict[str, Any]) -> dict[str, Any]:
    best_name = max(results.systems, key=lambda n: results.systems[n].headline or 0.0)
    best = results.systems[best_name]
    interval = best.interval or {"estimate": best.headline or 0.0, "low": best.headline or 0.0, "high": 0.0}
    metric = results.headline_metric
    shown = f"{best_name} {metric} {interval['estimate']:.2f} [{interval['low']:.2f}, {interval['high']:.2f}]"
    minutes = probe["estimated_training_minutes"]
    if interval["low"] >= target:
        decision = "not needed"
        sentence = f"fine-tuning not needed: {shown} already reaches the target {target:.2f} with its whole interval"
    else:
        decision = "worth trying"
        sentence = (
            f"fine-tuning worth trying: the best system without it, {shown}, does not reach the target {target:.2f} "
            f"with its whole interval; fine-tuning is estimated at {minutes:g} min of training on this machine "
            f"({probe['planned_steps']} steps of {probe['seconds_per_step']:g} s)"
        )
    return {
        "decision": decision,
        "sentence": sentence,
        "best_without_fine_tuning": best_name,
        "target": target,
        "rule": "not needed when the best system without fine-tuning has a 95% interval lower bound >= target; "
        "worth trying otherwise",
        "training_estimate": probe,
    }


def assess(
    pack_name: str,
    cfg: RunConfig,
    *,
    name: str | None = None,
    target: float = DEFAULT_TARGET,
    skip_invalid: bool = False,
    scrubber: Scrubber | None = None,
    show_progress: bool = True,
) -> Path:
    from core.evaluation import evaluate_run
    from core.models import resolve, resolve_precision, resolve_quantization
    from core.pipeline import check_systems, prepare_run
    from core.report import write_report

    resolve(cfg.model.base_model)
    pack = get_pack(pack_name, cfg.pack_options)
    cfg = cfg.model_copy(deep=True)
    cfg.evaluation.systems = [s for s in cfg.evaluation.systems if not s.startswith("tuned")] or ["zero_shot"]
    check_systems(pack, cfg)
    folder = RunFolder.create(cfg.output_dir, pack.name, name or f"{pack.name}-assess-{time.strftime('%Y%m%d-%H%M%S')}")
    try:
        folder.save_config(cfg)
        prepare_run(pack, cfg, folder, skip_invalid=skip_invalid, scrubber=scrubber)
    except BaseException:
        shutil.rmtree(folder.path, ignore_errors=True)
        raise
    model_path = resolve(cfg.model.base_model)
    probe = probe_training(
        pack,
        cfg,
        folder,
        model_path=model_path,
        precision=resolve_precision(cfg.model.precision),
        quantization=resolve_quantization(cfg.model.quantization),
    )
    data_report = folder.load_data_report()
    folder.update_results(lambda r: setattr(r, "data", data_report))
    results = evaluate_run(folder, show_progress=show_progress)
    verdict = assessment(results, target, probe)
    folder.update_results(lambda r: setattr(r, "assessment", verdict))
    write_report(folder)
    return folder.path
