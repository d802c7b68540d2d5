"""Legal demo: paste a clause, see the clause type from the base and the fine-tuned model.

python demos/legal.py --run runs/quickstart-legal   (or: vft demo legal --run ...)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.builder import AppSpec, main


def render(model: Any, parsed: Any, text: str) -> str:
    labels = parsed if isinstance(parsed, list) else [parsed]
    known = model.pack.definitions if hasattr(model.pack, "definitions") else {}
    lines = [f"**Clause type:** {', '.join(labels)}"]
    for label in labels:
        if known.get(label):
            lines.append(f"> {known[label]}")
    return "\n\n".join(lines)


def spec() -> AppSpec:
    return AppSpec(
        pack="legal",
        title="Contract clause classifier",
        input_label="Clause text",
        render=render,
        notes=["Answers are limited to the run's label set; anything else counts as an error."],
    )


if __name__ == "__main__":
    main(spec)
