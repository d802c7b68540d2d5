"""The scrubbing step for packs that declare sensitive fields: the examples' inputs are scrubbed before they are
split, saved in the run folder or trained on. Core defines the step; the scrubber itself (redaction/) is passed in
by the caller, so core never imports it."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from core.errors import RunError
from core.pack import Example, Pack


class Scrubber(Protocol):
    def is_marked_scrubbed(self, path: Path) -> bool:
        """True when the file carries proof (an audit with its hash) that it was scrubbed already."""

    def scrub_texts(self, texts: list[str], *, source: str) -> tuple[list[str], dict[str, Any]]:
        """Scrubbed texts (same order) and an audit holding counts only."""


@dataclasses.dataclass
class RedactionOutcome:
    examples: list[Example]
    status: str  # not_required | scrubbed | already_scrubbed | unredacted_allowed
    audit: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.audit:
            out.update({k: self.audit[k] for k in ("operator", "detector", "rows", "rows_changed", "entities_total")})
        return out


def redact_examples(
    pack: Pack,
    examples: Sequence[Example],
    data_path: Path,
    *,
    scrubber: Scrubber | None,
    allow_unredacted: bool,
) -> RedactionOutcome:
    """Scrub each example's input text and every non-assistant message of a chat prompt. Targets are left
    alone: they are what the model must learn to write (the pack's schema keeps identifiers out of them)."""
    if not pack.needs_redaction:
        return RedactionOutcome(list(examples), "not_required")
    if allow_unredacted:
        return RedactionOutcome(list(examples), "unredacted_allowed")
    if scrubber is None:
        raise RunError(
            f"the {pack.name} pack trains only on PII-scrubbed data and no scrubber was given; run it through "
            "`vft train`, scrub first with `vft redact`, or set allow_unredacted (recorded in the report)"
        )
    if scrubber.is_marked_scrubbed(data_path):
        return RedactionOutcome(list(examples), "already_scrubbed")
    texts: list[str] = []
    slots: list[tuple[int, int | None]] = []  # (example index, prompt message index or None for .text)
    for i, ex in enumerate(examples):
        texts.append(ex.text)
        slots.append((i, None))
        for j, msg in enumerate(ex.prompt or ()):
            if msg["role"] != "assistant":
                texts.append(msg["content"])
                slots.append((i, j))
    scrubbed, audit = scrubber.scrub_texts(texts, source=data_path.name)
    new_text: dict[int, str] = {}
    new_prompt: dict[int, list[dict[str, str]]] = {
        i: [dict(m) for m in ex.prompt] for i, ex in enumerate(examples) if ex.prompt
    }
    for (i, j), text in zip(slots, scrubbed, strict=True):
        if j is None:
            new_text[i] = text
        else:
            new_prompt[i][j]["content"] = text
    out = [
        dataclasses.replace(ex, text=new_text[i], prompt=tuple(new_prompt[i]) if i in new_prompt else ex.prompt)
        for i, ex in enumerate(examples)
    ]
    return RedactionOutcome(out, "scrubbed", audit)
