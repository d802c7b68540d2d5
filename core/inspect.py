"""`vft inspect`: see exactly what the model is trained on (supervised tokens marked) before spending CPU hours."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from core.errors import DataError


def inspect_data(
    pack_name: str,
    data: Path | None,
    options: dict[str, Any],
    base_model: str,
    max_length: int,
    index: int,
    console: Console,
) -> dict[str, Any]:
    from core.models import load_tokenizer, resolve
    from core.pack import get_pack
    from core.train import tokenize_examples

    pack = get_pack(pack_name, options)
    path = data or pack.sample_data_path()
    loaded = pack.load(Path(path))
    pack.fit(loaded.examples)
    tokenizer = load_tokenizer(resolve(base_model))
    if not 0 <= index < len(loaded.examples):
        raise DataError(f"--index {index} out of range (0..{len(loaded.examples) - 1})", file=str(path))
    ds, stats = tokenize_examples(tokenizer, pack, loaded.examples, max_length)
    unsupervised = [e.id for e, mask in zip(loaded.examples, ds["completion_mask"], strict=False) if sum(mask) == 0]
    if unsupervised:
        raise DataError(
            f"{len(unsupervised)} example(s) have no supervised tokens, e.g. {unsupervised[:5]}", file=str(path)
        )
    ids, mask = ds[index]["input_ids"], ds[index]["completion_mask"]
    shown = Text()
    for tok_id, m in zip(ids, mask, strict=True):
        piece = tokenizer.decode([tok_id])
        shown.append(piece, style="bold green on grey15" if m else "dim")
    console.rule(f"example {index} ({loaded.examples[index].id}): green = trained tokens")
    console.print(shown)
    console.rule("token statistics")
    summary = stats.summary()
    console.print(summary)
    return summary
