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
