"""`vft predict`: the fine-tuned model on new data, in batches, decoded as evaluation decodes, parsed by the pack."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from core.data import read_rows
from core.errors import DataError
from core.io import write_jsonl
from core.pack import Example, Pack


def read_inputs(pack: Pack, path: Path) -> list[Example]:
    """Rows with or without an answer: labelled rows go through the pack (and are scored); the others keep just
    their input (Pack.input_example). A row that is neither stops with file, row and field named."""
    examples = []
    for row, rec in read_rows(path):
        try:
            examples.extend(pack.row_to_examples(rec, row))
            continue
        except DataError:
            pass
        try:
            examples.append(pack.input_example(rec, row))
        except DataError as exc:
            raise DataError(exc.reason, file=str(path), row=row, field=exc.field) from None
    return examples


def predict_file(
    run_dir: Path, data: Path, out: Path, *, batch_size: int = 16, constrained: bool = False
) -> dict[str, Any]:
    from core.evaluation import parse_outputs
    from core.loaded_run import open_run
    from core.progress import progress_bar
    from core.windows import generate_by_windows

    loaded = open_run(run_dir, require_adapter=True)
    pack = loaded.pack
    examples = read_inputs(pack, Path(data))
    with progress_bar("predicting", len(examples)) as advance:

        def generate(pieces: list[Any], on_batch: Any) -> list[Any]:
            return loaded.generate(
                [loaded.prompt(e, tuned=True) for e in pieces],
                tuned=True,
                constrained=constrained,
                batch_size=batch_size,
                on_batch=on_batch,
            )

        gens = generate_by_windows(pack, examples, generate, advance)
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
        "device": loaded.device,
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
