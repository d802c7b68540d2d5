"""A brand's style guide (YAML): tone words and voice notes for the prompt; banned words, a length range and
required mentions that the metrics check."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import DataError


class StyleGuide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    brand: str = "our brand"
    tone: list[str] = Field(default_factory=list)
    voice_notes: str = ""
    banned_words: list[str] = Field(default_factory=list)
    length_words: tuple[int, int] = (30, 120)
    required_mentions: list[str] = Field(default_factory=lambda: ["name"], description="attribute keys")

    @model_validator(mode="after")
    def _range(self) -> StyleGuide:
        lo, hi = self.length_words
        if not 0 < lo <= hi:
            raise ValueError("length_words must be [min, max] with 0 < min <= max")
        return self

    def prompt_lines(self) -> str:
        lines = [f"Write in the voice of {self.brand}."]
        if self.tone:
            lines.append(f"Tone: {', '.join(self.tone)}.")
        if self.voice_notes:
            lines.append(self.voice_notes)
        lo, hi = self.length_words
        lines.append(f"Length: {lo}-{hi} words.")
        if self.banned_words:
            lines.append(f"Never use: {', '.join(self.banned_words)}.")
        if self.required_mentions:
            lines.append(f"Always mention the product's {', '.join(self.required_mentions)}.")
        return "\n".join(lines)


def load_style(path: str | Path) -> StyleGuide:
    path = Path(path)
    if not path.is_file():
        raise DataError("style guide not found", file=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return StyleGuide.model_validate(data)
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", file=str(path)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        raise DataError(first["msg"], file=str(path), field=".".join(map(str, first["loc"]))) from None


def derive_style(copies: list[str]) -> StyleGuide:
    """A style profile read off a shop's own training copy, for a catalogue that brings no style file: the length
    range (10th to 90th percentile of words), whether the shop uses bullet lines, how it addresses the reader, and
    the phrases it repeats across products. Never another shop's guide."""
    import re
    from collections import Counter

    if not copies:
        return StyleGuide()
    lengths = sorted(len(c.split()) for c in copies)
    lo = lengths[int(0.1 * (len(lengths) - 1))]
    hi = lengths[int(0.9 * (len(lengths) - 1))]
    bullets = sum(bool(re.search(r"^\s*[-•*]", c, re.M)) for c in copies) / len(copies)
    words = [re.findall(r"[a-z']+", c.lower()) for c in copies]
    you = sum(w.count("you") + w.count("your") for w in words)
    we = sum(w.count("we") + w.count("our") for w in words)
    grams: Counter = Counter()
    for w in words:
        grams.update({" ".join(w[i : i + 3]) for i in range(len(w) - 2)})
    phrases = [g for g, n in grams.most_common(40) if n >= max(3, 0.15 * len(copies))][:6]
    notes = [
        f"About {lengths[len(lengths) // 2]} words."
        + (" Ends with a bulleted list of features." if bullets >= 0.5 else " Prose, no bullet lists."),
        "Speaks to the reader as 'you'." if you > we else "Speaks as 'we' about the shop." if we > you else "",
    ]
    if phrases:
        notes.append("Recurring phrases: " + "; ".join(f"'{p}'" for p in phrases) + ".")
    return StyleGuide(
        brand="this shop",
        voice_notes=" ".join(n for n in notes if n),
        length_words=(max(1, lo), max(lo, hi, 1)),
        required_mentions=["name"],
    )
