"""Clinical demo: paste a visit dialogue or note; personal data is detected and replaced first (shown
highlighted), and only the scrubbed text reaches either model. The intake form is shown filled in.

python demos/clinical.py --run runs/clinical-...   (or: vft demo clinical --run ...)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from demos.builder import AppSpec, main

_scrubber: Any = None


def scrub(text: str) -> tuple[str, dict[str, Any]]:
    """Detect PII, replace it with consistent surrogates; the highlights mark what was found (in the input)."""
    global _scrubber
    from redaction.engine import Detector
    from redaction.operators import Replacer

    if _scrubber is None:
        _scrubber = (Detector(os.environ.get("VFT_DEMO_DETECTOR", "spacy")), Replacer("surrogate"))
    detector, replacer = _scrubber
    spans = next(iter(detector.detect_many([text])))
    pieces: list[tuple[str, str | None]] = []
    cursor = 0
    for span in sorted(spans, key=lambda s: s.start):
        pieces.append((text[cursor : span.start], None))
        pieces.append((text[span.start : span.end], span.label))
        cursor = span.end
    pieces.append((text[cursor:], None))
    scrubbed = replacer.replace(text, spans) if spans else text
    return scrubbed, {"scrubbed": scrubbed, "highlights": pieces}


def render(model: Any, parsed: Any, text: str) -> str:
    rows = ["| field | value |", "|---|---|"]
    for key, value in (parsed or {}).items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            shown = "; ".join(" ".join(str(v) for v in item.values() if v) for item in value)
        elif isinstance(value, dict):
            shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items() if v is not None) or "–"
        elif isinstance(value, list):
            shown = ", ".join(map(str, value)) or "none"
        else:
            shown = "–" if value is None else str(value)
        rows.append(f"| {key.replace('_', ' ')} | {shown} |")
    return "\n".join(rows)


def spec() -> AppSpec:
    return AppSpec(
        pack="clinical",
        title="Clinical intake extraction",
        input_label="Visit dialogue or note",
        render=render,
        preprocess=scrub,
        notes=["Personal data is replaced before the text reaches either model; nothing you paste is stored."],
    )


if __name__ == "__main__":
    main(spec)
