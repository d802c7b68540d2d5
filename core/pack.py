"""The Pack contract (one object per vertical) and the registry that finds packs through entry points.

Core only talks to packs through this contract, so a new vertical is a new folder plus one entry point.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from core.errors import PackNotFoundError

ENTRY_POINT_GROUP = "vft.packs"


class TaskKind(str, Enum):
    CLASSIFY = "classify"
    EXTRACT = "extract"
    GENERATE = "generate"


@dataclass(frozen=True)
class Example:
    """One supervised example: what the model reads, what it must write, and the gold value metrics compare."""

    id: str
    text: str
    target: str
    reference: Any
    group: str | None = None
    split: str | None = None
    prompt: tuple[dict[str, str], ...] | None = None  # full prompt from a chat file; None = the pack's own


@dataclass
class LoadResult:
    """Examples read from one file, with every row the pack changed or set aside counted (never silent)."""

    examples: list[Example]
    rows_read: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class Pack(ABC):
    """A vertical: prompt, output schema, parser, metrics, defaults and demo material for one task kind."""

    name: ClassVar[str]
    kind: ClassVar[TaskKind]
    description: ClassVar[str]
    headline_metric: ClassVar[str]
    output_schema: ClassVar[type[BaseModel] | None] = None
    redaction_fields: ClassVar[tuple[str, ...]] = ()  # non-empty = data must be scrubbed before training
    max_new_tokens: ClassVar[int] = 64
    no_repeat_ngram_size: ClassVar[int] = 0  # free-text packs: block verbatim repeats inside one answer

    def __init__(self, options: dict[str, Any] | None = None):
        self.options: dict[str, Any] = dict(options or {})

    @property
    def needs_redaction(self) -> bool:
        return bool(self.redaction_fields)

    # -- data ---------------------------------------------------------------------------------------------
    @abstractmethod
    def sample_data_path(self) -> Path:
        """The small bundled data set that `vft train PACK` uses when no --data is given."""

    @abstractmethod
    def load(self, path: Path, *, skip_invalid: bool = False) -> LoadResult:
        """Read a user file (or a known public format) into examples. Bad rows raise DataError(s) naming file,
        row and field; with skip_invalid they are skipped and counted instead."""

    def fit(self, train: Sequence[Example]) -> None:  # noqa: B027 - optional hook
        """Learn what the pack needs from the training split only (e.g. the label set)."""

    def state(self) -> dict[str, Any]:
        """What `fit` learned, saved in the run folder so eval, predict and demos rebuild the same pack."""
        return {}

    def load_state(self, state: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    def resample_train(self, train: Sequence[Example], seed: int) -> tuple[list[Example], dict[str, Any]]:
        """Optionally rebalance the training split (e.g. class-balanced sampling); returns counts for the report."""
        return list(train), {}

    def data_summary(self, splits: dict[str, Sequence[Example]]) -> dict[str, Any]:
        """Pack-specific lines for the data report (class counts, labels only seen in test, ...)."""
        return {}

    # -- prompting -----------------------------------------------------------------------------------------
    @abstractmethod
    def system_prompt(self) -> str: ...

    def user_message(self, text: str) -> str:
        return text

    def prompt_messages(self, example_or_text: Example | str) -> list[dict[str, str]]:
        if isinstance(example_or_text, Example):
            if example_or_text.prompt is not None:
                return [dict(m) for m in example_or_text.prompt]
            text = example_or_text.text
        else:
            text = example_or_text
        return [
            {"role": "system", "content": self.system_prompt()},
            {"role": "user", "content": self.user_message(text)},
        ]

    # -- outputs -------------------------------------------------------------------------------------------
    @abstractmethod
    def parse(self, text: str) -> Any:
        """Model text -> structured output. Raise core.errors.ParseError when it does not fit the schema."""

    @abstractmethod
    def metrics(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> dict[str, Any]:
        """Score parsed predictions (None = unparseable, counted wrong) against references; `inputs` are the
        source texts, for metrics that look values up in them (span F1, hallucination checks)."""

    base_outputs_for_metrics: int = 0  # > 0: evaluation first has the base model answer this many training inputs

    def fit_metrics(self, train: Sequence[Example], base_outputs: Sequence[str]) -> dict[str, Any]:
        """Learn a metric from the base model's own outputs on training inputs (e.g. a brand-voice classifier:
        the shop's copy vs the base model's). Returns facts about it for results.json (e.g. its accuracy)."""
        return {}

    def allowed_outputs(self) -> list[str] | None:
        """The finite set of valid completions, when there is one (exact constrained decoding)."""
        return None

    def output_json_schema(self) -> dict[str, Any] | None:
        """JSON schema the output must follow (JSON-schema constrained decoding); None for free text."""
        return self.output_schema.model_json_schema() if self.output_schema is not None else None

    def constraint(self) -> dict[str, Any]:
        """Keyword arguments for Generator.generate that constrain decoding to valid outputs ({} = none)."""
        if self.allowed_outputs():
            return {"choices": self.allowed_outputs()}
        schema = self.output_json_schema()
        return {"json_schema": schema} if schema else {}

    def default_config(self) -> dict[str, Any]:
        return {}

    def demo_examples(self) -> list[str]:
        return []

    def display(self, output: Any) -> str:
        """How a parsed output is shown to people (demos, worst-error tables)."""
        return str(output)


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_packs() -> list[str]:
    return sorted(_entry_points())


def pack_class(name: str) -> type[Pack]:
    """Look a pack up by registered name, or by 'module:Class' for a pack that is not installed."""
    if ":" in name:
        module, _, attr = name.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise PackNotFoundError(f"cannot import pack '{name}': {exc}") from None
    else:
        eps = _entry_points()
        if name not in eps:
            known = ", ".join(sorted(eps)) or "none installed"
            raise PackNotFoundError(f"no pack named '{name}' (available: {known})")
        cls = eps[name].load()
    if not (isinstance(cls, type) and issubclass(cls, Pack)):
        raise PackNotFoundError(f"'{name}' does not point to a Pack subclass")
    return cls


def get_pack(name: str, options: dict[str, Any] | None = None) -> Pack:
    return pack_class(name)(options)
