"""One loaded model for interactive use (demos): the base model and, when a run folder has one, its adapter on top,
loaded once; answers one input with either, timed and parsed by the pack."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import ParseError
from core.pack import Pack, get_pack


@dataclass
class Answer:
    raw: str
    parsed: Any | None
    error: str | None
    seconds: float


class RunModel:
    def __init__(self, pack_name: str, run_dir: Path | None = None, base_model: str = "smollm2-135m"):
        from core.evaluation import _adapter_off, load_run_pack
        from core.generate import Decoding, Generator
        from core.models import load_model, load_tokenizer, resolve, resolve_precision
        from core.runs import adapter_dir, has_adapter, load_config

        self.run_dir = Path(run_dir) if run_dir else None
        self.tuned = bool(self.run_dir and has_adapter(self.run_dir))
        if self.run_dir is not None:
            cfg = load_config(self.run_dir)
            if cfg.pack != pack_name:
                from core.errors import RunError

                raise RunError(f"{self.run_dir} is a '{cfg.pack}' run, not '{pack_name}'")
            self.pack: Pack = load_run_pack(self.run_dir, cfg)
            base_model, precision = cfg.base_model, resolve_precision(cfg.precision)
            self.decoding = Decoding.for_run(self.pack, cfg)  # the demo decodes as the run was evaluated
        else:
            self.pack = get_pack(pack_name)
            precision = resolve_precision("auto")
            self.decoding = Decoding.for_run(self.pack)
        model_path = resolve(base_model)
        self.base_model = base_model
        tokenizer = load_tokenizer(str(adapter_dir(self.run_dir)) if self.tuned else model_path)
        tokenizer.padding_side = "left"
        model = load_model(model_path, precision=precision, for_training=False)
        if self.tuned:
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(adapter_dir(self.run_dir)))
        self.model = model
        self.generator = Generator(model, tokenizer, max_length=4096, precision=precision)
        self._adapter_off = _adapter_off
        self._lock = threading.Lock()  # one generation at a time: the adapter switch is model-wide state

    def answer(self, text: str, *, tuned: bool, constrained: bool = False, max_new_tokens: int | None = None) -> Answer:
        if tuned and not self.tuned:
            raise ValueError("no fine-tuned adapter loaded")
        prompt = [self.pack.prompt_messages(text)]
        kwargs = self.pack.constraint() if constrained else {}
        decoding = self.decoding.kwargs() | ({"max_new_tokens": max_new_tokens} if max_new_tokens else {})
        with self._lock:
            started = time.perf_counter()
            if tuned:
                gen = self.generator.generate(prompt, **decoding, batch_size=1, **kwargs)[0]
            else:
                with self._adapter_off(self.model):
                    gen = self.generator.generate(prompt, **decoding, batch_size=1, **kwargs)[0]
            seconds = time.perf_counter() - started
        try:
            return Answer(gen.text, self.pack.parse(gen.text), None, seconds)
        except ParseError as exc:
            return Answer(gen.text, None, str(exc), seconds)
