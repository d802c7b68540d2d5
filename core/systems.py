"""Systems compared on held-out data. A system is a value with fields (how it is prompted, which weights answer,
how the answer is decoded), not a string to take apart; the registry maps the names used in configs and reports
("few_shot+constrained") to systems, so a new kind of system (a classical baseline, label scoring) is one small
class plus one `register` call.

Every system turns held-out examples into `Answer`s (raw text the pack parses, optionally label probabilities);
evaluation times it, parses, scores and writes the same way whatever the system is."""

from __future__ import annotations

import dataclasses
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from core.errors import ConfigError
from core.pack import Example, Pack

if TYPE_CHECKING:
    from core.config import RunConfig
    from core.loaded_run import LoadedRun

CONSTRAINED_SUFFIX = "+constrained"
SCORED_SUFFIX = "+scored"
GROUNDED_SUFFIX = "+grounded"


class Prompting(str, Enum):
    ZERO_SHOT = "zero_shot"  # the pack's prompt
    FEW_SHOT = "few_shot"  # + the k most similar training examples (retrieval)
    FEW_SHOT_RANDOM = "few_shot_random"  # + k random training examples (does retrieval matter?)
    NONE = "none"  # not a language model


class Weights(str, Enum):
    BASE = "base"
    TUNED = "tuned"
    NONE = "none"  # not a language model


class OutputMode(str, Enum):
    FREE = "free"  # greedy decoding, anything goes (parse failures count as wrong)
    CONSTRAINED = "constrained"  # decoding limited to valid outputs (label trie / JSON schema)
    DIRECT = "direct"  # the system writes its answer without decoding (classical models, retrieval)
    SCORED = "scored"  # every allowed answer scored by log-likelihood, the argmax taken (label scoring)
    GROUNDED = "grounded"  # free text that may not state what the input does not hold (core.grounding)


@dataclass
class Answer:
    text: str
    latency: float = 0.0  # seconds this example's caller waited for it (its whole batch, for batched decoding)
    new_tokens: int = 0
    prompt_truncated: bool = False
    probabilities: dict[str, float] | None = None
    reused_seconds: float = 0.0  # computed earlier for another system and reused: counted in this system's cost too


@dataclass
class SystemContext:
    """What a system may use: the pack, the run's config, its training and dev splits, and (loaded on first use,
    once for all systems) the model. `progress(n)` advances the caller's progress bar."""

    pack: Pack
    config: RunConfig
    train: list[Example]
    dev: list[Example]
    open_model: Callable[[], LoadedRun]
    tuned_available: bool
    progress: Callable[[float], None] = lambda n: None
    _loaded: Any = None
    _retriever: Any = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> LoadedRun:
        if self._loaded is None:
            self._loaded = self.open_model()
        return self._loaded

    @property
    def retriever(self) -> Any:
        if self._retriever is None:
            from core.fewshot import Retriever

            self._retriever = Retriever(self.train)
        return self._retriever


class System(ABC):
    """One way of answering the held-out inputs."""

    name: str

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The system's fields, for results.json and the report."""

    def available(self, pack: Pack, *, tuned_available: bool) -> bool:
        """False when this system cannot run for this pack or run (then it is left out, and said so)."""
        return True

    @property
    def uses_model(self) -> bool:
        return True

    def prepare(self, ctx: SystemContext) -> float:
        """Load or fit what the system needs before it answers (not counted in its answering speed); returns the
        seconds spent fitting, which are reported as the system's training time."""
        if self.uses_model:
            ctx.model  # noqa: B018 - load once, before the clock starts
        return 0.0

    @abstractmethod
    def answer(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]: ...


@dataclass(frozen=True)
class PromptedSystem(System):
    """A language model answering through the chat template: base or tuned weights, a prompting strategy, free or
    constrained decoding."""

    prompting: Prompting
    weights: Weights
    output: OutputMode = OutputMode.FREE

    @property
    def name(self) -> str:  # type: ignore[override]
        base = "tuned" if self.weights is Weights.TUNED else self.prompting.value
        suffix = {
            OutputMode.CONSTRAINED: CONSTRAINED_SUFFIX,
            OutputMode.SCORED: SCORED_SUFFIX,
            OutputMode.GROUNDED: GROUNDED_SUFFIX,
        }.get(self.output, "")
        return base + suffix

    def describe(self) -> dict[str, Any]:
        return {"prompting": self.prompting.value, "weights": self.weights.value, "decoding": self.output.value}

    def available(self, pack: Pack, *, tuned_available: bool) -> bool:
        if self.weights is Weights.TUNED and not tuned_available:
            return False
        if self.output is OutputMode.SCORED:
            return bool(pack.allowed_outputs())
        if self.output is OutputMode.GROUNDED:
            return type(pack).grounding is not Pack.grounding
        return self.output is not OutputMode.CONSTRAINED or bool(pack.constraint())

    def prompts(self, ctx: SystemContext, examples: Sequence[Example]) -> list[list[dict[str, str]]]:
        from core.fewshot import few_shot_messages, random_shots

        if self.weights is Weights.TUNED:
            from core.prompts import adapter_prompt

            return [adapter_prompt(ctx.pack, ctx.config, ex, ctx.retriever) for ex in examples]
        k = ctx.config.evaluation.few_shot_k
        if self.prompting is Prompting.FEW_SHOT:
            return [few_shot_messages(ctx.pack, ex, ctx.retriever.nearest(ex.text, k)) for ex in examples]
        if self.prompting is Prompting.FEW_SHOT_RANDOM:
            return [
                few_shot_messages(ctx.pack, ex, random_shots(ctx.train, k, ctx.config.seed, ex.id)) for ex in examples
            ]
        return [ctx.pack.prompt_messages(ex) for ex in examples]

    def answer(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]:
        if self.output is OutputMode.SCORED:
            return self._scored(ctx, examples)
        from core.windows import generate_by_windows

        grounded = self.output is OutputMode.GROUNDED
        # greedy answers of the free twin (same prompts, same weights), which the constrained twin resumes from
        free_answers: dict[Any, Any] = ctx.cache.setdefault("free_answers", {}).setdefault(
            (self.prompting, self.weights), {}
        )

        def generate(pieces: list[Any], on_batch: Any) -> list[Any]:
            prompts = self.prompts(ctx, pieces)
            keys = [_prompt_key(p) for p in prompts]
            constrained = self.output is OutputMode.CONSTRAINED
            gens = ctx.model.generate(
                prompts,
                tuned=self.weights is Weights.TUNED,
                constrained=constrained,
                on_batch=on_batch,
                grounding=[ctx.pack.grounding(ex) for ex in pieces] if grounded else None,
                earlier=[free_answers.get(k) for k in keys] if constrained else None,
            )
            if self.output is OutputMode.FREE:
                free_answers.update(zip(keys, gens, strict=True))
            return gens

        gens = generate_by_windows(ctx.pack, examples, generate, ctx.progress)
        return [
            Answer(g.text, g.batch_seconds + g.reused_seconds, g.new_tokens, g.prompt_truncated, None, g.reused_seconds)
            for g in gens
        ]

    def _scored(self, ctx: SystemContext, examples: Sequence[Example]) -> list[Answer]:
        choices = ctx.pack.allowed_outputs() or []
        labels = [str(ctx.pack.parse(c)) for c in choices]
        done: dict[tuple[str, str], Answer] = ctx.cache.setdefault("scored_answers", {})  # a pooled system asks again
        answers = []
        for ex, prompt in zip(examples, self.prompts(ctx, examples), strict=True):
            if (self.name, ex.id) not in done:
                started = time.perf_counter()
                scored = ctx.model.score([prompt], choices, tuned=self.weights is Weights.TUNED)[0]
                probs = dict(zip(labels, scored.probabilities, strict=True))
                done[(self.name, ex.id)] = Answer(
                    choices[scored.index], time.perf_counter() - started, 0, scored.prompt_truncated, probs
                )
                answers.append(done[(self.name, ex.id)])
            else:
                earlier = done[(self.name, ex.id)]
                answers.append(dataclasses.replace(earlier, reused_seconds=earlier.latency))
            ctx.progress(1)
        return answers

    def constrained(self) -> PromptedSystem:
        return PromptedSystem(self.prompting, self.weights, OutputMode.CONSTRAINED)

    def scored(self) -> PromptedSystem:
        return PromptedSystem(self.prompting, self.weights, OutputMode.SCORED)

    def grounded(self) -> PromptedSystem:
        return PromptedSystem(self.prompting, self.weights, OutputMode.GROUNDED)


def _prompt_key(messages: Sequence[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((m["role"], m["content"]) for m in messages)


# -- registry ----------------------------------------------------------------------------------------------------

_REGISTRY: dict[str, Callable[[], System]] = {}


def register(name: str, factory: Callable[[], System]) -> None:
    """Make a system available under `name` in configs (`evaluation.systems`) and on the command line."""
    _REGISTRY[name] = factory


def _builtins() -> None:
    import core.baselines
    import core.pooled  # noqa: F401 - registers tuned+classical


def registered() -> list[str]:
    _builtins()
    return list(_REGISTRY)


def get_system(name: str, pack: Pack | None = None) -> System:
    """The system registered under `name`, or one the pack declares (Pack.systems())."""
    _builtins()
    own = pack.systems() if pack is not None else {}
    if name in own:
        return own[name]
    if name not in _REGISTRY:
        known = ", ".join([*_REGISTRY, *own])
        raise ConfigError(f"unknown system '{name}' (known: {known})")
    return _REGISTRY[name]()


def plan_systems(
    names: Sequence[str],
    pack: Pack,
    *,
    tuned_available: bool,
    constrained: bool,
    label_scoring: bool = False,
    grounded: bool = False,
) -> tuple[list[System], list[str]]:
    """The systems to score, in order: each named system, then (with `constrained`) the constrained twin of every
    free-decoding language-model system where the pack has a constraint. Returns the plan and what was left out
    (and why), so the report can say it."""
    plan: list[System] = []
    skipped: list[str] = []
    for name in names:
        system = get_system(name, pack)
        if system.available(pack, tuned_available=tuned_available):
            plan.append(system)
        else:
            skipped.append(f"{name}: not available for this run")
    if constrained:
        twins = [
            s.constrained()
            for s in plan
            if isinstance(s, PromptedSystem) and s.output is OutputMode.FREE and pack.constraint()
        ]
        plan += [t for t in twins if t.name not in {s.name for s in plan}]
    free = [s for s in plan if isinstance(s, PromptedSystem) and s.output is OutputMode.FREE]
    if label_scoring and pack.allowed_outputs():
        plan += [t for t in (s.scored() for s in free) if t.name not in {s.name for s in plan}]
    if grounded and type(pack).grounding is not Pack.grounding:
        plan += [t for t in (s.grounded() for s in free) if t.name not in {s.name for s in plan}]
    return plan, skipped


for _prompting in (Prompting.ZERO_SHOT, Prompting.FEW_SHOT, Prompting.FEW_SHOT_RANDOM):
    for _output in (OutputMode.FREE, OutputMode.CONSTRAINED, OutputMode.SCORED, OutputMode.GROUNDED):
        _system = PromptedSystem(_prompting, Weights.BASE, _output)
        register(_system.name, lambda s=_system: s)
for _output in (OutputMode.FREE, OutputMode.CONSTRAINED, OutputMode.SCORED, OutputMode.GROUNDED):
    _system = PromptedSystem(Prompting.ZERO_SHOT, Weights.TUNED, _output)
    register(_system.name, lambda s=_system: s)
