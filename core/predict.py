"""`vft predict`: the fine-tuned model on new data, in batches, with the pack's parser applied."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from core.errors import RunError
from core.io import write_jsonl
from core.pack import Example


def _unlabelled_rows(pack: Any, path: Path) -> list[Example]:
    """Rows with or without a target: labelled rows go through the pack; others keep just their text."""
    from core.data import read_rows, require_text
    from core.errors import DataError

    text_col = pack.options.get("text_column", "text")
    examples = []
    for row, rec in read_rows(path):
        try:
            examples.extend(pack.row_to_examples(rec, row) if hasattr(pack, "row_to_examples") else [])
            continue
        except DataError:
            pass
        try:
            text = require_text(rec, text_col)
        except DataError as exc:
            raise DataError(exc.reason, file=str(path), row=row, field=exc.field) from None
        examples.append(Example(id=str(rec.get("id", row)), text=text, target="", reference=None))
    return examples


def predict_file(
    run_dir: Path, data: Path, out: Path, *, batch_size: int = 16, constrained: bool = False
) -> dict[str, Any]:
    from rich.progress import Progress

    from core.evaluation import load_run_pack, parse_outputs
    from core.generate import Decoding, Generator
    from core.models import load_model, load_tokenizer, resolve, resolve_precision
    from core.runs import adapter_dir, has_adapter, load_config

    run_dir = Path(run_dir)
    cfg = load_config(run_dir)
    if not has_adapter(run_dir):
        raise RunError(f"{run_dir}: no adapter (train first)")
    pack = load_run_pack(run_dir, cfg)
    examples = _unlabelled_rows(pack, Path(data))
    precision = resolve_precision(cfg.precision)
    tokenizer = load_tokenizer(str(adapter_dir(run_dir)))
    tokenizer.padding_side = "left"
    from peft import PeftModel

    model = PeftModel.from_pretrained(
        load_model(resolve(cfg.base_model), precision=precision, for_training=False), str(adapter_dir(run_dir))
    )
    generator = Generator(model, tokenizer, max_length=max(cfg.max_length, 2048), precision=precision)
    with Progress() as bar:
        task = bar.add_task("predicting", total=len(examples))
        gens = generator.generate(
            [pack.prompt_messages(e) for e in examples],
            **Decoding.for_run(pack, cfg).kwargs(),
            batch_size=batch_size,
            **(pack.constraint() if constrained else {}),
            on_batch=lambda n: bar.advance(task, n),
        )
    parsed, errors = parse_outputs(pack, [g.text for g in gens])
    write_jsonl(
        out,
        (
            {"id": e.id, "raw": g.text, "parsed": p, "parse_error": err, "reference": e.reference}
            for e, g, p, err in zip(examples, gens, parsed, errors, strict=True)
        ),
    )
    summary: dict[str, Any] = {
        "rows": len(examples),
        "parsed": sum(p is not None for p in parsed),
        "parse_failures": sum(p is None for p in parsed),
        "output": str(out),
    }
    labelled = [(p, e.reference) for p, e in zip(parsed, examples, strict=True) if e.reference is not None]
    if labelled:
        summary["metrics"] = {
            k: v
            for k, v in pack.metrics([p for p, _ in labelled], [r for _, r in labelled]).items()
            if not isinstance(v, dict)
        }
    summary["errors"] = dict(Counter(e for e in errors if e).most_common(5))
    return summary
