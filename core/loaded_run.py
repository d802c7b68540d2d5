"""The one way to open a trained run (or a bare base model) for inference. Evaluation, `vft predict`, the demos,
serving and export all call `open_run` / `open_base`, so the device, precision, adapter, tokenizer and chat
template, prompt budget and decoding settings cannot drift apart between them."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config import RunConfig, build_config
from core.errors import RunError
from core.formatting import Messages
from core.generate import Decoding, Generation, Generator
from core.pack import Pack, get_pack
from core.run_folder import RunFolder

GENERATION_CONTEXT = 4096  # at least this many tokens of prompt + answer at inference: room for few-shot prompts


def inference_device() -> str:
    """cuda when a GPU is visible, else cpu. The only place that decides where inference runs."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def prompt_budget(cfg: RunConfig, model_config: Any = None) -> int:
    """Tokens of prompt + answer every inference caller allows: at least what training used and at least
    GENERATION_CONTEXT, never more than the model's position limit."""
    budget = max(cfg.training.max_length, GENERATION_CONTEXT)
    limit = getattr(model_config, "max_position_embeddings", None)
    return min(budget, int(limit)) if limit else budget


@dataclass
class Reply:
    """One answer for interactive callers (demos, serving): raw text, parsed output or the parse error, timing."""

    raw: str
    parsed: Any | None
    error: str | None
    seconds: float
    new_tokens: int = 0


@dataclass
class LoadedRun:
    pack: Pack
    config: RunConfig
    model: Any
    tokenizer: Any
    device: str
    precision: str
    decoding: Decoding
    max_length: int
    tuned: bool
    base_model: str
    folder: RunFolder | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _retriever: Any = field(default=None, repr=False)

    @property
    def generator(self) -> Generator:
        return Generator(self.model, self.tokenizer, max_length=self.max_length, precision=self.precision)

    @contextlib.contextmanager
    def weights(self, *, tuned: bool) -> Iterator[None]:
        """Answer with the adapter (tuned) or the base weights under it (adapter disabled: one model in memory)."""
        if tuned and not self.tuned:
            raise RunError("no fine-tuned adapter loaded")
        if tuned or not hasattr(self.model, "disable_adapter"):
            yield
        else:
            with self.model.disable_adapter():
                yield

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        tuned: bool,
        constrained: bool = False,
        batch_size: int | None = None,
        on_batch: Callable[[int], None] | None = None,
        max_new_tokens: int | None = None,
        grounding: Sequence[Any] | None = None,
        earlier: Sequence[Generation | None] | None = None,
    ) -> list[Generation]:
        """Batched generation with the run's decoding (and the pack's constraint when asked). Thread-safe: the
        adapter switch is model-wide state, so one generation runs at a time. `earlier`: see Generator.generate."""
        kwargs = self.decoding.kwargs()
        if max_new_tokens:
            kwargs["max_new_tokens"] = max_new_tokens
        constraint = self.pack.constraint() if constrained else {}
        with self._lock, self.weights(tuned=tuned):
            return self.generator.generate(
                prompts,
                **kwargs,
                **constraint,
                batch_size=batch_size or self.config.evaluation.eval_batch_size,
                batch_tokens=self.config.evaluation.eval_batch_tokens,
                on_batch=on_batch,
                grounding=grounding,
                earlier=earlier,
            )

    def score(self, prompts: Sequence[Messages], choices: Sequence[str], *, tuned: bool) -> list[Any]:
        """Label scoring (core.label_scoring) with the same weights switch and lock as generation."""
        from core.label_scoring import score_choices

        with self._lock, self.weights(tuned=tuned):
            return score_choices(
                self.model, self.tokenizer, prompts, choices, max_length=self.max_length, precision=self.precision
            )

    @property
    def retriever(self) -> Any:
        """TF-IDF over the run's training split (few-shot shots, retrieval-augmented adapters); built once."""
        if self._retriever is None and self.folder is not None and self.folder.has_split("train"):
            from core.fewshot import Retriever

            self._retriever = Retriever(self.folder.load_split("train"))
        return self._retriever

    def prompt(self, example: Any, *, tuned: bool) -> Messages:
        """The prompt a caller sends: the adapter's own prompt style for the tuned model, the full one for the base."""
        if not tuned:
            return self.pack.prompt_messages(example)
        from core.prompts import adapter_prompt

        return adapter_prompt(
            self.pack, self.config, example, self.retriever if self.config.training.retrieval_k else None
        )

    def reply(self, text: str, *, tuned: bool, constrained: bool = False, max_new_tokens: int | None = None) -> Reply:
        """One input through the pack's prompt, parsed by the pack."""
        from core.errors import ParseError
        from core.windows import generate_by_windows

        started = time.perf_counter()
        gen = generate_by_windows(
            self.pack,
            [text],
            lambda pieces, _: self.generate(
                [self.prompt(p, tuned=tuned) for p in pieces],
                tuned=tuned,
                constrained=constrained,
                max_new_tokens=max_new_tokens,
            ),
        )[0]
        seconds = time.perf_counter() - started
        try:
            return Reply(gen.text, self.pack.parse(gen.text), None, seconds, gen.new_tokens)
        except ParseError as exc:
            return Reply(gen.text, None, str(exc), seconds, gen.new_tokens)


def load_run_pack(folder: RunFolder, cfg: RunConfig | None = None) -> Pack:
    """The run's pack, rebuilt with its options and what it fitted on the training split."""
    cfg = cfg or folder.load_config()
    pack = get_pack(cfg.pack or "", cfg.pack_options)
    pack.load_state(folder.load_pack_state())
    return pack


def adapter_in_bf16(model: Any) -> None:
    """The adapter's weights in bf16 for inference. peft keeps them in fp32 (for training), but every inference path
    runs under bf16 autocast when the precision is bf16 (core.generate.inference_autocast), which casts them to
    bf16 at each call anyway: the same arithmetic without the casts, 13% faster for the fine-tuned systems on the
    clinical windows (bench/NOTES.md)."""
    import torch

    for name, param in model.named_parameters():
        if "lora_" in name and param.dtype == torch.float32:
            param.data = param.data.to(torch.bfloat16)


def _load(
    pack: Pack,
    cfg: RunConfig,
    *,
    adapter: Path | None,
    device: str | None,
    precision: str | None,
    folder: RunFolder | None,
) -> LoadedRun:
    from core.models import load_model, load_tokenizer, resolve, resolve_precision

    device = device or inference_device()
    precision = precision or resolve_precision(cfg.model.precision, device)
    model_path = resolve(cfg.model.base_model)
    tokenizer = load_tokenizer(str(adapter) if adapter else model_path, trust_remote_code=cfg.model.trust_remote_code)
    tokenizer.padding_side = "left"
    model = load_model(
        model_path,
        precision=precision,
        trust_remote_code=cfg.model.trust_remote_code,
        for_training=False,
        device=device,
    )
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), torch_device="cpu")  # attached in host memory...
        if precision == "bf16":
            adapter_in_bf16(model)
    if device != "cpu":
        model = model.to(device)  # ...and the whole model moved once
    model.eval()
    return LoadedRun(
        pack=pack,
        config=cfg,
        model=model,
        tokenizer=tokenizer,
        device=device,
        precision=precision,
        decoding=Decoding.for_run(pack, cfg),
        max_length=prompt_budget(cfg, getattr(model, "config", None)),
        tuned=adapter is not None,
        base_model=cfg.model.base_model,
        folder=folder,
    )


def open_run(
    run_dir: str | Path | RunFolder,
    *,
    device: str | None = None,
    precision: str | None = None,
    require_adapter: bool = False,
) -> LoadedRun:
    """A run folder -> its pack (with fitted state), base model on the inference device, and its adapter when it
    has one (the base weights stay reachable with `weights(tuned=False)`)."""
    folder = run_dir if isinstance(run_dir, RunFolder) else RunFolder.open(run_dir)
    cfg = folder.load_config()
    tuned = folder.has_adapter()
    if require_adapter and not tuned:
        raise RunError(f"{folder.path}: no adapter (train first)")
    pack = load_run_pack(folder, cfg)
    return _load(
        pack, cfg, adapter=folder.adapter_dir if tuned else None, device=device, precision=precision, folder=folder
    )


def open_base(
    pack_name: str, base_model: str = "smollm2-135m", *, device: str | None = None, options: Any = None
) -> LoadedRun:
    """No run folder: the base model alone, with the pack's default config and decoding (demos before training)."""
    pack = get_pack(pack_name, options)
    cfg = build_config(pack_defaults=pack.default_config(), overrides={"pack": pack_name, "base_model": base_model})
    return _load(pack, cfg, adapter=None, device=device, precision=None, folder=None)
