"""Score what the models generate on the held-out split: base zero-shot, base few-shot (retrieved and random
shots) and the fine-tuned adapter, each also with constrained decoding where the pack has a finite output set.
Writes predictions/{system}.jsonl and results.json; a malformed output counts as wrong."""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core import metrics
from core.config import RunConfig
from core.errors import ParseError, RunError
from core.fewshot import Retriever, few_shot_messages, random_shots
from core.formatting import Messages
from core.io import read_json, write_json, write_jsonl
from core.pack import Example, Pack
from core.runs import adapter_dir, has_adapter, load_config, load_split

CONSTRAINED = "+constrained"


def system_names(cfg: RunConfig, pack: Pack, *, tuned_available: bool) -> list[str]:
    names = [s for s in cfg.systems if s != "tuned" or tuned_available]
    if cfg.constrained and pack.constraint():
        names += [f"{s}{CONSTRAINED}" for s in list(names)]
    return names


def build_prompts(
    system: str, pack: Pack, test: Sequence[Example], train: Sequence[Example], cfg: RunConfig
) -> list[Messages]:
    base = system.removesuffix(CONSTRAINED)
    if base in ("zero_shot", "tuned"):
        return [pack.prompt_messages(ex) for ex in test]
    if base == "few_shot":
        retriever = Retriever(train)
        return [few_shot_messages(pack, ex, retriever.nearest(ex.text, cfg.few_shot_k)) for ex in test]
    if base == "few_shot_random":
        return [few_shot_messages(pack, ex, random_shots(train, cfg.few_shot_k, cfg.seed, ex.id)) for ex in test]
    raise ValueError(f"unknown system {system}")


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


def machine_info() -> dict[str, Any]:
    import os

    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def load_run_pack(run_dir: Path, cfg: RunConfig) -> Pack:
    from core.pack import get_pack

    pack = get_pack(cfg.pack or "", cfg.pack_options)
    state_path = run_dir / "pack_state.json"
    if state_path.is_file():
        pack.load_state(read_json(state_path))
    return pack


def evaluate_run(
    run_dir: str | Path,
    *,
    systems: Sequence[str] | None = None,
    max_examples: int | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Evaluate a run folder's systems on its held-out split; update results.json and return it."""
    import torch

    from core.generate import Decoding, Generator
    from core.models import load_model, load_tokenizer, resolve, resolve_precision

    run_dir = Path(run_dir)
    cfg = load_config(run_dir)
    pack = load_run_pack(run_dir, cfg)
    test = load_split(run_dir, "test")
    train = load_split(run_dir, "train")
    limit = max_examples or cfg.max_eval_examples
    if limit is not None and len(test) > limit:  # a seeded sample, not the first rows (often one contract)
        import random

        keep = set(random.Random(cfg.seed).sample(range(len(test)), limit))
        test = [ex for i, ex in enumerate(test) if i in keep]
    if not test:
        raise RunError(f"{run_dir}: the held-out split is empty; nothing to evaluate")
    tuned = has_adapter(run_dir)
    names = list(systems) if systems else system_names(cfg, pack, tuned_available=tuned)
    if any(n.startswith("tuned") for n in names) and not tuned:
        raise RunError(f"{run_dir}: no adapter yet (train first, or leave 'tuned' out of the systems)")
    precision = resolve_precision(cfg.precision)
    model_path = resolve(cfg.base_model)
    tokenizer = load_tokenizer(str(adapter_dir(run_dir)) if tuned else model_path)
    tokenizer.padding_side = "left"
    model = load_model(model_path, precision=precision, trust_remote_code=cfg.trust_remote_code, for_training=False)
    if tuned:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir(run_dir)))
    if torch.cuda.is_available():
        model = model.to("cuda")
    generator = Generator(model, tokenizer, max_length=max(cfg.max_length, 4096), precision=precision)  # room for shots
    decoding = Decoding.for_run(pack, cfg).kwargs()
    refs = [ex.reference for ex in test]
    results_path = run_dir / "results.json"
    results: dict[str, Any] = read_json(results_path) if results_path.is_file() else {}
    results.setdefault("systems", {})
    if pack.base_outputs_for_metrics and train:
        import random

        shown = random.Random(cfg.seed).sample(train, min(pack.base_outputs_for_metrics, len(train)))
        with _progress("base model on train (metric)", len(shown), show_progress) as (bar, task), _adapter_off(model):
            gens = generator.generate(
                [pack.prompt_messages(ex) for ex in shown],
                **decoding,
                batch_size=cfg.eval_batch_size,
                on_batch=(lambda n: bar.advance(task, n)) if bar is not None else None,
            )
        write_jsonl(
            run_dir / "predictions" / "base_on_train.jsonl",
            ({"id": ex.id, "raw": g.text} for ex, g in zip(shown, gens, strict=True)),
        )
        results["metric_models"] = pack.fit_metrics(shown, [g.text for g in gens])
    for name in names:
        prompts = build_prompts(name, pack, test, train, cfg)
        constraint = pack.constraint() if name.endswith(CONSTRAINED) else {}
        started = time.perf_counter()
        progress = _progress(f"{name:<24}", len(prompts), show_progress)
        with progress as (bar, task):

            def advance(n: int, bar: Any = bar, task: Any = task) -> None:
                if bar is not None:
                    bar.advance(task, n)

            if name.startswith("tuned"):
                gens = generator.generate(
                    prompts, **decoding, batch_size=cfg.eval_batch_size, **constraint, on_batch=advance
                )
            else:
                with _adapter_off(model):
                    gens = generator.generate(
                        prompts,
                        **decoding,
                        batch_size=cfg.eval_batch_size,
                        **constraint,
                        on_batch=advance,
                    )
        elapsed = time.perf_counter() - started
        texts = [g.text for g in gens]
        parsed, errors = parse_outputs(pack, texts)
        write_jsonl(
            run_dir / "predictions" / f"{name}.jsonl",
            (
                {
                    "id": ex.id,
                    "system": name,
                    "raw": g.text,
                    "parsed": p,
                    "parse_error": e,
                    "reference": ex.reference,
                    "correct": p == ex.reference,
                    "prompt_truncated": g.prompt_truncated,
                }
                for ex, g, p, e in zip(test, gens, parsed, errors, strict=True)
            ),
        )
        scores = pack.metrics(parsed, refs, inputs=[ex.text for ex in test])
        if pack.output_json_schema() is not None and pack.allowed_outputs() is None:
            scores["json_valid_rate"] = metrics.json_valid_rate(texts)
        scores["headline"] = scores.get(pack.headline_metric)
        scores["examples_per_second"] = len(test) / elapsed if elapsed else None
        scores["generated_tokens"] = sum(g.new_tokens for g in gens)
        results["systems"][name] = scores
    results.update(
        {
            "pack": pack.name,
            "headline_metric": pack.headline_metric,
            "test_examples": len(test),
            "base_model": cfg.base_model,
            "machine": machine_info(),
            "evaluated_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
    )
    write_json(results_path, results)
    return results


class _adapter_off:
    """Run the base model through a PEFT wrapper by disabling the adapter (one model in memory)."""

    def __init__(self, model: Any):
        self.ctx = model.disable_adapter() if hasattr(model, "disable_adapter") else None

    def __enter__(self) -> None:
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc: object) -> None:
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


class _progress:
    def __init__(self, label: str, total: int, enabled: bool):
        self.label, self.total, self.enabled = label, total, enabled
        self.bar: Any = None

    def __enter__(self) -> tuple[Any, Any]:
        if not self.enabled:
            return None, None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=False
        )
        self.bar.__enter__()
        return self.bar, self.bar.add_task(self.label, total=self.total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)
