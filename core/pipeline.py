"""The main job: data -> splits -> LoRA training -> held-out evaluation -> report, in one run folder."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.data import prepare_splits
from core.errors import RunError
from core.pack import Example, Pack, TaskKind, get_pack
from core.privacy import RedactionOutcome, Scrubber, redact_examples
from core.run_folder import RunFolder, is_main_process

log = logging.getLogger(__name__)


def prepare_run(
    pack: Pack, cfg: RunConfig, folder: RunFolder, *, skip_invalid: bool = False, scrubber: Scrubber | None = None
) -> dict[str, Any]:
    data_path = Path(cfg.data.path) if cfg.data.path else pack.sample_data_path()
    outcome: list[RedactionOutcome] = []

    def scrub(examples: list[Example]) -> list[Example]:
        result = redact_examples(
            pack, examples, data_path, scrubber=scrubber, allow_unredacted=cfg.privacy.allow_unredacted
        )
        outcome.append(result)
        return result.examples

    splits = prepare_splits(
        pack,
        data_path,
        eval_fraction=cfg.data.eval_fraction,
        test_fraction=cfg.data.test_fraction,
        seed=cfg.seed,
        max_train_examples=cfg.data.max_train_examples,
        max_dev_examples=cfg.data.max_dev_examples,
        skip_invalid=skip_invalid,
        after_load=scrub,
    )
    report = dict(splits.report)
    redaction = outcome[0]
    report["redaction"] = redaction.summary()
    if redaction.status == "unredacted_allowed":
        report.setdefault("warnings", []).append(
            "trained on UNREDACTED data (allow_unredacted): the run folder may contain personal data"
        )
    report.update(pack.data_summary({"train": splits.train, "dev": splits.dev, "test": splits.test}))
    if pack.kind is TaskKind.CLASSIFY:
        from core.label_issues import find_label_issues

        report["label_issues"] = find_label_issues(splits.train, seed=cfg.seed)
    if is_main_process():
        folder.save_splits({"train": splits.train, "dev": splits.dev, "test": splits.test})
        folder.save_pack_state(pack.state())
        folder.save_data_report(report)
        if redaction.audit is not None:
            folder.save_redaction_audit(redaction.audit)
    return report


def _start_shared_run(
    pack: Pack, cfg: RunConfig, name: str | None, *, skip_invalid: bool, scrubber: Scrubber | None
) -> RunFolder:
    """Under `accelerate launch`: rank 0 creates the run folder and prepares (and scrubs) the data once; the other
    ranks wait, then read the same splits from disk. A failure on rank 0 is passed on, so no rank hangs."""
    from accelerate import PartialState

    if name is None:
        raise RunError("multi-process training needs --name so every process writes to the same run folder")
    folder = RunFolder(Path(cfg.output_dir) / name)
    if folder.path.exists() and any(folder.path.iterdir()):
        raise RunError(f"{folder.path} already exists; pick another --name (or --resume it)")
    import torch

    # joins the process group the launcher set up: nccl on GPUs, gloo on CPU (the same state the Trainer uses)
    state = PartialState(cpu=not torch.cuda.is_available())
    state.wait_for_everyone()
    if state.is_main_process:
        folder = RunFolder.create(cfg.output_dir, pack.name, name)
        try:
            folder.save_config(cfg)
            prepare_run(pack, cfg, folder, skip_invalid=skip_invalid, scrubber=scrubber)
        except BaseException as exc:
            folder.failed_marker.write_text(str(exc) or type(exc).__name__, encoding="utf-8")
            state.wait_for_everyone()  # the folder stays (with the marker) so the other ranks can read why
            raise
    state.wait_for_everyone()
    if not state.is_main_process:
        if folder.failed_marker.is_file():
            raise RunError(f"rank 0 could not start the run: {folder.failed_marker.read_text(encoding='utf-8')}")
        pack.load_state(folder.load_pack_state())
    return folder


def check_systems(pack: Pack, cfg: RunConfig) -> None:
    """Unknown system names fail before any training, not after it."""
    from core.systems import get_system

    for name in cfg.evaluation.systems:
        get_system(name, pack)


def train_and_evaluate(
    pack_name: str,
    cfg: RunConfig,
    *,
    name: str | None = None,
    evaluate: bool = True,
    skip_invalid: bool = False,
    resume_dir: Path | None = None,
    scrubber: Scrubber | None = None,
) -> Path:
    from core.evaluation import evaluate_run
    from core.loaded_run import load_run_pack
    from core.models import resolve, resolve_precision, resolve_quantization
    from core.report import write_report
    from core.train import train, world_size

    if resume_dir is not None:
        folder = RunFolder.open(resume_dir)
        cfg = folder.load_config()
        pack = load_run_pack(folder, cfg)
        if not folder.has_split("train"):
            raise RunError(f"{folder.path}: cannot resume, the run stopped before its data was prepared")
        if folder.last_checkpoint() is None:  # killed before the first complete checkpoint: start clean
            shutil.rmtree(folder.checkpoints_dir, ignore_errors=True)
            folder.train_log_path.unlink(missing_ok=True)
    else:
        resolve(cfg.model.base_model)  # a wrong model path fails before a run folder exists
        pack = get_pack(pack_name, cfg.pack_options)
        check_systems(pack, cfg)
        if world_size() > 1:
            folder = _start_shared_run(pack, cfg, name, skip_invalid=skip_invalid, scrubber=scrubber)
        else:
            folder = RunFolder.create(cfg.output_dir, pack.name, name)
            try:
                folder.save_config(cfg)
                prepare_run(pack, cfg, folder, skip_invalid=skip_invalid, scrubber=scrubber)
            except BaseException:
                shutil.rmtree(folder.path, ignore_errors=True)  # bad data: leave no half-made run folder behind
                raise
    model_path = resolve(cfg.model.base_model)
    precision = resolve_precision(cfg.model.precision)
    quantization = resolve_quantization(cfg.model.quantization)
    result = train(
        pack,
        cfg,
        folder.load_split("train"),
        folder.load_split("dev"),
        folder,
        model_path=model_path,
        precision=precision,
        quantization=quantization,
        resume=resume_dir is not None,
    )
    if not is_main_process():
        return folder.path
    training = {**result.to_json(), "precision": precision, "quantization": quantization, "world_size": world_size()}
    data_report = folder.load_data_report()

    def record(results: Any) -> None:
        from core.results import TrainingSummary

        results.training = TrainingSummary.model_validate(training)
        results.data = data_report

    folder.update_results(record)
    if evaluate and folder.load_split("test"):
        evaluate_run(folder)
    write_report(folder)
    return folder.path
