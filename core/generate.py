"""Batched generation with the training chat template: left padding, greedy by default, stop at end of turn,
optional constrained decoding (core.constrained) or repetition control for free text."""

from __future__ import annotations

import contextlib
import copy
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.formatting import Messages, chat_ids, end_of_turn_ids, fit_prompt
from core.grounding import Grounding, trim_cut_answer
from core.pack import TaskKind
from core.parsing import json_answer_end


@dataclass(frozen=True)
class Decoding:
    """How a pack's answers are decoded. The pack sets the defaults (`max_new_tokens`, `no_repeat_ngram_size`,
    `repetition_penalty`, `end_at_repeated_line`), a run's config may override them; every caller (evaluation,
    predict, demos) decodes the same way."""

    max_new_tokens: int
    no_repeat_ngram_size: int = 0  # answer tokens only; 0 = off
    repetition_penalty: float = 1.0  # answer tokens only; 1.0 = off
    answer_end: Callable[[str], int | None] | None = None  # free text ends where this says (see Generator.generate)
    coverage_bonus: float = 0.0  # grounded answers: logit bonus towards the input's facts not yet stated

    @classmethod
    def for_run(cls, pack: Any, cfg: Any | None = None) -> Decoding:
        settings = getattr(cfg, "decoding", None)
        ngram = getattr(settings, "no_repeat_ngram_size", None)
        penalty = getattr(settings, "repetition_penalty", None)
        end_at_repeat = getattr(settings, "end_at_repeated_line", None)
        bonus = getattr(settings, "coverage_bonus", None)
        if end_at_repeat is None:
            end_at_repeat = pack.end_at_repeated_line
        answer_end = pack.repeated_line_start if end_at_repeat else None
        if answer_end is None and pack.kind == TaskKind.EXTRACT and getattr(settings, "end_after_json", True):
            answer_end = json_answer_end
        return cls(
            max_new_tokens=getattr(settings, "max_new_tokens", None) or pack.max_new_tokens,
            no_repeat_ngram_size=pack.no_repeat_ngram_size if ngram is None else ngram,
            repetition_penalty=pack.repetition_penalty if penalty is None else penalty,
            answer_end=answer_end,
            coverage_bonus=pack.coverage_bonus if bonus is None else bonus,
        )

    def kwargs(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "repetition_penalty": self.repetition_penalty,
            "answer_end": self.answer_end,
            "coverage_bonus": self.coverage_bonus,
        }


CHECK_EVERY = 16  # decoding steps: rows are checked at least this often, boundary token or not


def answer_end_stopper(tokenizer: Any, prompt_width: int, answer_end: Callable[[str], int | None]) -> Any:
    """A stopping criterion that ends a row's answer as soon as `answer_end` finds where it should end (for example
    at a line that repeats an earlier one, or where a JSON object closes). Rows are decoded only after a token that
    ends a line, a sentence or a JSON object, and every CHECK_EVERY steps (an answer with none of those), so a
    49k-vocabulary batch costs one set lookup per row and step otherwise."""
    import torch
    from transformers import StoppingCriteria

    from core.vocab import token_texts

    boundaries = frozenset(
        i for i, t in enumerate(token_texts(tokenizer)) if "\n" in t or "}" in t or t.rstrip()[-1:] in ".!?"
    )

    class _AnswerEnd(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            every = (input_ids.shape[1] - prompt_width) % CHECK_EVERY == 0
            for row in range(input_ids.shape[0]):
                if every or int(input_ids[row, -1]) in boundaries:
                    text = tokenizer.decode(input_ids[row, prompt_width:], skip_special_tokens=True)
                    done[row] = answer_end(text) is not None
            return done

    return _AnswerEnd()


def repetition_processors(no_repeat_ngram_size: int, repetition_penalty: float, prompt_width: int) -> list[Any]:
    """transformers' own processors, restricted to the answer: for a decoder-only model they would otherwise count
    the prompt, and forbid copying its product name or attribute values into the answer. None when both are off."""
    if no_repeat_ngram_size <= 0 and repetition_penalty == 1.0:
        return []
    from transformers import LogitsProcessor, NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    class _AnswerOnly(LogitsProcessor):
        def __init__(self, inner: Any):
            self.inner = inner

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            return self.inner(input_ids[:, prompt_width:], scores)

    procs: list[Any] = []
    if repetition_penalty != 1.0:
        procs.append(RepetitionPenaltyLogitsProcessor(float(repetition_penalty), prompt_ignore_length=prompt_width))
    if no_repeat_ngram_size > 0:
        procs.append(_AnswerOnly(NoRepeatNGramLogitsProcessor(no_repeat_ngram_size)))
    return procs


@dataclass
class Generation:
    text: str
    new_tokens: int
    seconds: float  # wall time of the batch this prompt was in, shared evenly
    prompt_truncated: bool
    token_ids: tuple[int, ...] = ()  # the new tokens, up to and including the stop token
    batch_seconds: float = 0.0  # wall time of the whole batch: how long this prompt's caller waited


def inference_autocast(model: Any, precision: str) -> Any:
    """The autocast context every inference path runs under: bf16 where the run's precision is bf16 (a CPU with
    native bf16 or a GPU), fp16 on CUDA only, none for fp32."""
    import torch

    device = next(model.parameters()).device
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    if precision == "fp16" and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.float16)
    return contextlib.nullcontext()


MIN_SHARED_PREFIX = 32  # tokens: below this, computing the shared prefix once saves less than it costs


def shared_prefix(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the token prefix every sequence starts with (the system prompt, label definitions, schema), kept
    one token short of the shortest sequence so every row still has input of its own."""
    if not sequences:
        return 0
    first, n = sequences[0], min(len(s) for s in sequences) - 1
    k = 0
    while k < n and all(s[k] == first[k] for s in sequences):
        k += 1
    return k


def final_text(text: str, answer_end: Callable[[str], int | None] | None, ground: Grounding | None) -> str:
    """The answer as returned: cut where the pack's answer-end rule says, and, when grounded, without an unfinished
    refused number at the end (decoding allows one while it can still grow into an allowed number, so a cut by that
    rule or by the token budget can leave one behind)."""
    end = answer_end(text) if answer_end is not None else None
    if end is not None:
        text = text[:end].rstrip()
    return trim_cut_answer(ground, text)


def answer_length(new: Sequence[int], stop_ids: Sequence[int], pad_id: int | None = None) -> int:
    """New tokens of one row up to and including its stop token; with `pad_id`, a row a stopping criterion ended
    (then padded to the batch's width) ends before its first padding."""
    n_new = next((k + 1 for k, t in enumerate(new) if t in stop_ids), len(new))
    if pad_id is not None:
        n_new = min(n_new, next((k for k, t in enumerate(new) if t == pad_id), n_new))
    return n_new


def plan_batches(
    lengths: Sequence[int], batch_size: int, batch_tokens: int | None = None, max_new_tokens: int = 0
) -> list[list[int]]:
    """Prompt indices in batches, longest prompts first so similar lengths share a batch: at most `batch_size` rows,
    and with `batch_tokens` at most that many tokens of (longest prompt + answer) x rows, one row always. On a CPU a
    decoding step costs about the same for 4 rows as for 16, so short prompts should share big batches; the token
    cap keeps long ones (whole clinical visits) from filling memory."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        current = batches[-1] if batches else []
        width = (lengths[current[0]] if current else lengths[i]) + max_new_tokens
        full = len(current) >= batch_size or (batch_tokens is not None and (len(current) + 1) * width > batch_tokens)
        if not current or full:
            batches.append([i])
        else:
            current.append(i)
    return batches


class Generator:
    """Wraps a model + tokenizer for batched chat generation. Rows of a batch are [shared prefix][padding][own
    tokens]: the prefix every prompt shares is run once and its KV cache copied to every row; positions come from the
    attention mask, so the padding in the middle changes nothing the model sees."""

    def __init__(
        self, model: Any, tokenizer: Any, *, max_length: int = 2048, precision: str = "fp32", reuse_prefix: bool = True
    ):
        self.model, self.tokenizer, self.max_length, self.precision = model, tokenizer, max_length, precision
        self.reuse_prefix = reuse_prefix

    def generate(
        self,
        prompts: Sequence[Messages],
        *,
        max_new_tokens: int,
        batch_size: int = 16,
        batch_tokens: int | None = None,
        choices: Sequence[str] | None = None,
        json_schema: dict[str, Any] | None = None,
        on_batch: Callable[[int], None] | None = None,
        do_sample: bool = False,
        temperature: float = 1.0,
        no_repeat_ngram_size: int = 0,
        repetition_penalty: float = 1.0,
        grounding: Sequence[Any] | None = None,
        answer_end: Callable[[str], int | None] | None = None,
        coverage_bonus: float = 0.0,
    ) -> list[Generation]:
        """Constrained answers (choices / json_schema) get no repetition control: their structure repeats by design
        (`"name": ` once per medication), and a ban could leave the constraint no token to choose. Free text with
        `answer_end` stops where it says (checked during decoding) and is cut there."""
        import torch

        tok = self.tokenizer
        budget = self.max_length - max_new_tokens
        encoded: list[tuple[list[int], bool]] = []
        for messages in prompts:
            fitted, cut = fit_prompt(tok, list(messages), budget)
            encoded.append((chat_ids(tok, fitted, add_generation_prompt=True), cut))
        results: list[Generation | None] = [None] * len(encoded)
        device = next(self.model.parameters()).device
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        stop_ids = end_of_turn_ids(tok)
        was_training = self.model.training
        self.model.eval()
        prefix_len = shared_prefix([e[0] for e in encoded]) if self.reuse_prefix else 0
        ends_early = answer_end is not None and not (choices or json_schema)
        prefix_cache = None
        if prefix_len >= MIN_SHARED_PREFIX:
            with torch.inference_mode(), inference_autocast(self.model, self.precision):
                prefix = torch.tensor([encoded[0][0][:prefix_len]], device=device)
                prefix_cache = self.model(input_ids=prefix, use_cache=True).past_key_values
        else:
            prefix_len = 0
        try:
            lengths = [len(ids) for ids, _ in encoded]
            for idx in plan_batches(lengths, batch_size, batch_tokens, max_new_tokens):
                width = max(len(encoded[i][0]) for i in idx)
                input_ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
                attention = torch.zeros((len(idx), width), dtype=torch.long)
                for row, i in enumerate(idx):
                    ids = encoded[i][0]
                    own = ids[prefix_len:]
                    input_ids[row, :prefix_len] = torch.tensor(ids[:prefix_len], dtype=torch.long)
                    attention[row, :prefix_len] = 1
                    input_ids[row, width - len(own) :] = torch.tensor(own)
                    attention[row, width - len(own) :] = 1
                kwargs: dict[str, Any] = {
                    "max_new_tokens": max_new_tokens,
                    "do_sample": do_sample,
                    "eos_token_id": stop_ids,
                    "pad_token_id": pad_id,
                }
                if do_sample:
                    kwargs["temperature"] = temperature
                else:
                    kwargs.update(temperature=None, top_p=None, top_k=None)
                if choices or json_schema:
                    from core.constrained import choice_processor, json_schema_processor

                    procs = [
                        choice_processor(tok, choices, width)
                        if choices
                        else json_schema_processor(tok, json_schema or {}, width, max_new_tokens)
                    ]
                else:
                    procs = repetition_processors(no_repeat_ngram_size, repetition_penalty, width)
                    if grounding is not None:
                        from core.grounding import grounding_processor

                        procs.append(
                            grounding_processor(tok, [grounding[i] for i in idx], width, stop_ids, coverage_bonus)
                        )
                    if ends_early and answer_end is not None:
                        from transformers import StoppingCriteriaList

                        kwargs["stopping_criteria"] = StoppingCriteriaList([answer_end_stopper(tok, width, answer_end)])
                if procs:
                    from transformers import LogitsProcessorList

                    kwargs["logits_processor"] = LogitsProcessorList(procs)
                t0 = time.perf_counter()
                if prefix_cache is not None:
                    cache = copy.deepcopy(prefix_cache)
                    cache.batch_repeat_interleave(len(idx))
                    kwargs["past_key_values"] = cache
                with torch.inference_mode(), inference_autocast(self.model, self.precision):
                    out = self.model.generate(
                        input_ids=input_ids.to(device), attention_mask=attention.to(device), **kwargs
                    )
                elapsed = time.perf_counter() - t0
                for row, i in enumerate(idx):
                    new = out[row, width:].tolist()
                    n_new = answer_length(new, stop_ids, pad_id if ends_early else None)
                    text = tok.decode(new[:n_new], skip_special_tokens=True).strip()
                    text = final_text(text, answer_end if ends_early else None, grounding[i] if grounding else None)
                    results[i] = Generation(
                        text, n_new, elapsed / len(idx), encoded[i][1], tuple(new[:n_new]), batch_seconds=elapsed
                    )
                if on_batch:
                    on_batch(len(idx))
        finally:
            if was_training:
                self.model.train()
        return [r for r in results if r is not None]
