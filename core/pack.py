"""The Pack contract (one object per vertical) and the registry that finds packs through entry points.

Core talks to packs only through the methods declared here, so a new vertical is a new folder plus one entry
point. Pack options are a typed model per pack (`Pack.Options`): an unknown or misspelled option is an error that
names it and lists the valid ones (`vft packs --options PACK` prints them)."""

from __future__ import annotations

import difflib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

from core.config import PromptStyle
from core.errors import ConfigError, PackNotFoundError

if TYPE_CHECKING:
    from core.systems import System

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


class PackOptions(BaseModel):
    """Base of every pack's options model: unknown keys are errors. Subclass it and add typed, documented fields."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


def parse_options(pack_name: str, model: type[PackOptions], options: Mapping[str, Any] | PackOptions | None) -> Any:
    """Validate user options against a pack's model; errors name the option and list the valid ones."""
    if isinstance(options, model):
        return options
    raw = dict(options.model_dump() if isinstance(options, PackOptions) else options or {})
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        valid = list(model.model_fields)
        problems = []
        for e in exc.errors():
            name = ".".join(str(p) for p in e["loc"]) or "options"
            if e["type"] == "extra_forbidden":
                close = difflib.get_close_matches(name, valid, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                problems.append(f"unknown option '{name}'{hint}")
            else:
                problems.append(f"option '{name}': {e['msg']} (got {e.get('input')!r})")
        unknown = any(e["type"] == "extra_forbidden" for e in exc.errors())
        listed = f". Valid options: {', '.join(valid) or 'none'}" if unknown else ""
        raise ConfigError(f"pack '{pack_name}': " + "; ".join(problems) + listed) from None


class Pack(ABC):
    """A vertical: prompt, output schema, parser, metrics, defaults and demo material for one task kind.

    Required: name, kind, description, headline_metric, `sample_data_path`, `row_to_examples`, `system_prompt`,
    `parse`, `metrics`. Everything else has a default that a pack overrides when it needs to."""

    name: ClassVar[str]
    kind: ClassVar[TaskKind]
    description: ClassVar[str]
    headline_metric: ClassVar[str]
    Options: ClassVar[type[PackOptions]] = PackOptions
    output_schema: ClassVar[type[BaseModel] | None] = None
    redaction_fields: ClassVar[tuple[str, ...]] = ()  # non-empty = data must be scrubbed before training
    max_new_tokens: ClassVar[int] = 64
    no_repeat_ngram_size: ClassVar[int] = 0  # free-text packs: block verbatim repeats inside one answer
    repetition_penalty: ClassVar[float] = 1.0  # free-text packs: penalise tokens already in the answer (1.0 = off)
    coverage_bonus: ClassVar[float] = 0.0  # grounded packs: nudge answers towards the input's facts (0 = off)
    end_at_repeated_line: ClassVar[bool] = False  # free-text packs: end an answer where it repeats a line
    keep_length: ClassVar[bool] = False  # free-text packs with answer_words(): decode inside that range
    base_outputs_for_metrics: int = 0  # > 0: evaluation first has the base model answer this many training inputs

    def __init__(self, options: Mapping[str, Any] | PackOptions | None = None):
        self.options: Any = parse_options(self.name, self.Options, options)

    @property
    def needs_redaction(self) -> bool:
        return bool(self.redaction_fields)

    # -- data ---------------------------------------------------------------------------------------------
    @abstractmethod
    def sample_data_path(self) -> Path:
        """The small bundled data set that `vft train PACK` uses when no --data is given."""

    @abstractmethod
    def row_to_examples(self, rec: dict[str, Any], row: int) -> list[Example]:
        """One row of a user file -> examples. Raise DataError(reason, field=...) for a bad row: the reader adds the
        file and row number."""

    def reference_from_target(self, text: str) -> Any:
        """An answer written out (the assistant turn of a chat JSONL row) -> the gold value metrics compare."""
        return self.parse(text)

    def load(self, path: Path, *, skip_invalid: bool = False) -> LoadResult:
        """Read a user file (or a known public format) into examples. Bad rows raise DataError(s) naming file,
        row and field; with skip_invalid they are skipped and counted instead."""
        from core.data import load_with

        return load_with(path, self.row_to_examples, skip_invalid=skip_invalid, parse=self.reference_from_target)

    def input_example(self, rec: dict[str, Any], row: int) -> Example:
        """A row that may have no answer (new data for `vft predict`) -> an example with reference None."""
        from core.data import require_text

        column = getattr(self.options, "text_column", "text")
        text = require_text(rec, column)
        return Example(id=str(rec.get("id", row)), text=text, target="", reference=None)

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

    def training_views(self, examples: Sequence[Example]) -> list[Example]:
        """What the adapter is trained on for these examples: the examples themselves, or for a pack that answers
        long inputs window by window, one example per window with the part of the answer that window states.
        The saved splits (and the baselines and retrieval built on them) keep the whole examples."""
        return list(examples)

    def repeated_line_start(self, text: str) -> int | None:
        """Where a free-text answer starts saying again what it already said (a character offset), or None. Used
        to end answers there when `end_at_repeated_line` is on; packs with line-structured answers override it."""
        return None

    def answer_words(self) -> tuple[int, int] | None:
        """The range of words an answer should have (e.g. from a style guide), or None. Used to keep answers inside
        it at decode time when `keep_length` is on."""
        return None

    def windows(self, text: str) -> list[str]:
        """The parts of an input the model answers one at a time (core.windows merges the answers): the whole
        input by default."""
        return [text]

    def merge_windows(self, outputs: Sequence[Any | None]) -> Any:
        """One answer from the parsed answers of an input's windows (None where a window's answer did not parse).
        Only called for packs whose `windows` splits an input."""
        raise NotImplementedError(f"pack {self.name} splits inputs into windows but does not merge their answers")

    def data_summary(self, splits: dict[str, Sequence[Example]]) -> dict[str, Any]:
        """Pack-specific lines for the data report (class counts, labels only seen in test, ...)."""
        return {}

    def default_config(self) -> dict[str, Any]:
        """Run-config defaults of this pack: `configs/default.yaml` beside the pack's module when there is one."""
        import inspect

        import yaml

        path = Path(inspect.getfile(type(self))).parent / "configs" / "default.yaml"
        return (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}

    # -- prompting -----------------------------------------------------------------------------------------
    @abstractmethod
    def system_prompt(self) -> str: ...

    def compact_system_prompt(self) -> str | None:
        """A short prompt for a fine-tuned adapter (training.prompt: compact): the instructions the base model needs
        (label definitions, field guides) cost tokens an adapter that learned the task may not need. None = the
        pack has no compact form and uses its full prompt."""
        return None

    def minimal_system_prompt(self) -> str | None:
        """The task and the answer format alone (training.prompt: minimal), for an adapter that learns the label
        names or fields from its training answers. None = the pack has no such form: its compact (else full) prompt
        is used."""
        return None

    def system_prompt_for(self, style: PromptStyle) -> str:
        """The system prompt of a style, falling back minimal -> compact -> full where a pack has no such form."""
        shorter = {"minimal": (self.minimal_system_prompt, self.compact_system_prompt),
                   "compact": (self.compact_system_prompt,)}.get(style, ())  # fmt: skip
        return next((text for make in shorter if (text := make())), None) or self.system_prompt()

    def user_message(self, text: str) -> str:
        return text

    def prompt_messages(self, example_or_text: Example | str, *, style: PromptStyle = "full") -> list[dict[str, str]]:
        if isinstance(example_or_text, Example):
            if example_or_text.prompt is not None:
                return [dict(m) for m in example_or_text.prompt]
            text = example_or_text.text
        else:
            text = example_or_text
        system = self.system_prompt_for(style)
        return [
            {"role": "system", "content": system},
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

    def headline_scorer(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> Callable[[Any], float]:
        """indices of the examples -> the headline metric on that subset, for the paired bootstrap (called a
        thousand times per system). The default rescores with `metrics`; packs override it with a fast exact one."""

        def score(idx: Any) -> float:
            picked = [int(i) for i in idx]
            value = self.metrics(
                [predictions[i] for i in picked],
                [references[i] for i in picked],
                [inputs[i] for i in picked] if inputs is not None else None,
            ).get(self.headline_metric)
            return float(value or 0.0)

        return score

    def format_answer(self, reference: Any) -> str:
        """The answer text for a gold value (what a system that predicts values directly, such as the classical
        baseline, writes so that `parse` reads it back)."""
        import json

        return reference if isinstance(reference, str) else json.dumps(reference, ensure_ascii=False)

    def nearest_answer(self, example: Example, neighbour: Example) -> str:
        """The `nearest` baseline's answer for `example`: its most similar training example's answer, adapted where
        the pack knows how (e.g. the product's own name in place of the neighbour's)."""
        return neighbour.target

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

    def grounding(self, example: Example | str) -> Any:
        """For free-text packs: what this example's answer may not say (core.grounding.Grounding), e.g. colours and
        materials the product does not have. None = no grounded decoding (no `+grounded` systems)."""
        return None

    def systems(self) -> dict[str, System]:
        """Systems this pack adds to the comparison or replaces by name (e.g. a stronger `classical` baseline of
        its own); the names can then be used in `evaluation.systems` like core's."""
        return {}

    # -- showing -------------------------------------------------------------------------------------------
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


def get_pack(name: str, options: Mapping[str, Any] | PackOptions | None = None) -> Pack:
    return pack_class(name)(options)


def options_table(cls: type[Pack]) -> list[dict[str, str]]:
    """Each option of a pack: name, type, default and description (for `vft packs --options`)."""
    rows = []
    for name, info in cls.Options.model_fields.items():
        annotation = str(info.annotation).replace("typing.", "")
        default = info.get_default(call_default_factory=True)
        rows.append(
            {"option": name, "type": annotation, "default": repr(default), "description": info.description or ""}
        )
    return rows
