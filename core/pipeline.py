"""The main job: data -> splits -> LoRA training -> held-out evaluation -> report, in one run folder."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from core.config import RunConfig
from core.data import prepare_splits
from core.errors import RunError
from core.io import read_json, write_json
from core.pack import Example, Pack, get_pack
from core.privacy import RedactionOutcome, Scrubber, redact_examples
from core.runs import (
    create_run_dir,
    is_main_process,
    last_checkpoint,
    load_config,
    load_split,
    save_config,
    save_splits,
)

log = logging.getLogger(__name__)


def prepare_run(
    pack: Pack, cfg: RunConfig, run_dir: Path, *, skip_invalid: bool = False, scrubber: Scrubber | None = None
) -> dict[str, Any]:
    data_path = Path(cfg.data) if cfg.data else pack.sample_data_path()
    outcome: list[RedactionOutcome] = []

    def scrub(examples: list[Example]) -> list[Example]:
        result = redact_examples(pack, examples, data_path, scrubber=scrubber, allow_unredacted=cfg.allow_unredacted)
        outcome.append(result)
        return result.examples

    splits = prepare_splits(
        pack,
        data_path,
        eval_fraction=cfg.eval_fraction,
        test_fraction=cfg.test_fraction,
        seed=cfg.seed,
        max_train_examples=cfg.max_train_examples,
        max_dev_examples=cfg.max_dev_examples,
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
    if is_main_process():
        save_splits(run_dir, {"train": splits.train, "dev": splits.dev, "test": splits.test})
        write_json(run_dir / "pack_state.json", pack.state())
        write_json(run_dir / "data_report.json", report)
        if redaction.audit is not None:
            write_json(run_dir / "redaction_audit.json", redaction.audit)
    return report


FAILED_MARKER = ".start_failed"


def _start_shared_run(
    pack: Pack, cfg: RunConfig, name: str | None, *, skip_invalid: bool, scrubber: Scrubber | None
) -> Path:
    """Under `accelerate launch`: rank 0 creates the run folder and prepares (and scrubs) the data once; the other
    ranks wait, then read the same splits from disk. A failure on rank 0 is passed on, so no rank hangs."""
    from accelerate import PartialState

    if name is None:
        raise RunError("multi-process training needs --name so every process writes to the same run folder")
    run_dir = Path(cfg.output_dir) / name
    if run_dir.exists() and any(run_dir.iterdir()):
        raise RunError(f"{run_dir} already exists; pick another --name (or --resume it)")
    import torch

    # joins the process group the launcher set up: nccl on GPUs, gloo on CPU (the same state the Trainer uses)
    state = PartialState(cpu=not torch.cuda.is_available())
    state.wait_for_everyone()
    if state.is_main_process:
        run_dir = create_run_dir(cfg.output_dir, pack.name, name)
        try:
            save_config(run_dir, cfg)
            prepare_run(pack, cfg, run_dir, skip_invalid=skip_invalid, scrubber=scrubber)
        except BaseException as exc:
            (run_dir / FAILED_MARKER).write_text(str(exc) or type(exc).__name__, encoding="utf-8")
            state.wait_for_everyone()  # the folder stays (with the marker) so the other ranks can read why
            raise
    state.wait_for_everyone()
    if not state.is_main_process:
        marker = run_dir / FAILED_MARKER
        if marker.is_file():
            raise RunError(f"rank 0 could not start the run: {marker.read_text(encoding='utf-8')}")
        pack.load_state(read_json(run_dir / "pack_state.json"))
    return run_dir


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
    from core.evaluation import evaluate_run, load_run_pack
    from core.models import resolve, resolve_precision, resolve_quantization
    from core.report import write_report
    from core.train import train, world_size

    if resume_dir is not None:
        run_dir = Path(resume_dir)
        cfg = load_config(run_dir)
        pack = load_run_pack(run_dir, cfg)
        if not (run_dir / "data" / "train.jsonl").is_file():
            raise RunError(f"{run_dir}: cannot resume, the run stopped before its data was prepared")
        if last_checkpoint(run_dir) is None:  # killed before the first complete checkpoint: start clean
            shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)
            (run_dir / "train_log.jsonl").unlink(missing_ok=True)
    else:
        resolve(cfg.base_model)  # a wrong model path fails before a run folder exists
        pack = get_pack(pack_name, cfg.pack_options)
        if world_size() > 1:
            run_dir = _start_shared_run(pack, cfg, name, skip_invalid=skip_invalid, scrubber=scrubber)
        else:
            run_dir = create_run_dir(cfg.output_dir, pack.name, name)
            try:
                save_config(run_dir, cfg)
                prepare_run(pack, cfg, run_dir, skip_invalid=skip_invalid, scrubber=scrubber)
            except BaseException:
                shutil.rmtree(run_dir, ignore_errors=True)  # bad data: leave no half-made run folder behind
                raise
    model_path = resolve(cfg.base_model)
    precision = resolve_precision(cfg.precision)
    quantization = resolve_quantization(cfg.quantization)
    result = train(
        pack,
        cfg,
        load_split(run_dir, "train"),
        load_split(run_dir, "dev"),
        run_dir,
        model_path=model_path,
        precision=precision,
        quantization=quantization,
        resume=resume_dir is not None,
    )
    if not is_main_process():
        return run_dir
    results_path = run_dir / "results.json"
    results = read_json(results_path) if results_path.is_file() else {}
    results["training"] = {
        **result.to_json(),
        "precision": precision,
        "quantization": quantization,
        "world_size": world_size(),
    }
    results["data"] = read_json(run_dir / "data_report.json")
    write_json(results_path, results)
    if evaluate and load_split(run_dir, "test"):
        evaluate_run(run_dir)
    write_report(run_dir)
    return run_dir
