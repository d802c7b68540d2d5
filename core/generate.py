"""Batched generation with the training chat template: left padding, greedy by default, stop at end of turn,
optional constrained decoding (core.constrained) or repetition control for free text."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.answer_length import end_within_words, first_end, min_words_processor
from core.formatting import Messages, chat_ids, end_of_turn_ids, fit_prompt
from core.grounding import Grounding, trim_cut_answer
from core.pack import TaskKind
from core.parsing import json_answer_end
from core.rolling_batch import Finished, Hooks, Row, decode_rolling


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
    min_words: int = 0  # free text: no end before this many words (0 = off)

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
        keep_length = getattr(settings, "keep_length", None)
        words = pack.answer_words() if (pack.keep_length if keep_length is None else keep_length) else None
        if words is not None:
            answer_end = first_end(answer_end, functools.partial(end_within_words, low=words[0], high=words[1]))
        if answer_end is None and pack.kind == TaskKind.EXTRACT and getattr(settings, "end_after_json", True):
            answer_end = functools.partial(json_answer_end, end_loops=getattr(settings, "end_loops", True))
        return cls(
            max_new_tokens=getattr(settings, "max_new_tokens", None) or pack.max_new_tokens,
            no_repeat_ngram_size=pack.no_repeat_ngram_size if ngram is None else ngram,
            repetition_penalty=pack.repetition_penalty if penalty is None else penalty,
            answer_end=answer_end,
            coverage_bonus=pack.coverage_bonus if bonus is None else bonus,
            min_words=words[0] if words is not None else 0,
        )

    def kwargs(self) -> dict[str, Any]:
        return {
            "max_new_tokens": self.max_new_tokens,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "repetition_penalty": self.repetition_penalty,
            "answer_end": self.answer_end,
            "coverage_bonus": self.coverage_bonus,
            "min_words": self.min_words,
        }


CHECK_EVERY = 16  # decoding steps: rows are checked at least this often, boundary token or not


def answer_end_stopper(
    tokenizer: Any, prompt_width: int | Sequence[int], answer_end: Callable[[str], int | None]
) -> Any:
    """A stopping criterion that ends a row's answer as soon as `answer_end` finds where it should end (for example
    at a line that repeats an earlier one, or where a JSON object closes). Rows are decoded only after a token that
    ends a line, a sentence or a JSON object, and every CHECK_EVERY steps (an answer with none of those), so a
    49k-vocabulary batch costs one set lookup per row and step otherwise."""
    import torch
    from transformers import StoppingCriteria

    from core.constrained import answer_start
    from core.vocab import token_texts

    boundaries = frozenset(
        i for i, t in enumerate(token_texts(tokenizer)) if "\n" in t or "}" in t or t.rstrip()[-1:] in ".!?"
    )

    class _AnswerEnd(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            done = torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
            for row in range(input_ids.shape[0]):
                start = answer_start(prompt_width, row)
                if (input_ids.shape[1] - start) % CHECK_EVERY == 0 or int(input_ids[row, -1]) in boundaries:
                    text = tokenizer.decode(input_ids[row, start:], skip_special_tokens=True)
                    done[row] = answer_end(text) is not None
            return done

    return _AnswerEnd()


def repetition_processors(
    no_repeat_ngram_size: int, repetition_penalty: float, prompt_width: int | Sequence[int]
) -> list[Any]:
    """transformers' own processors, restricted to the answer: for a decoder-only model they would otherwise count
    the prompt, and forbid copying its product name or attribute values into the answer. `prompt_width`: where the
    answers start, one column for the batch or one per row. None when both are off."""
    if no_repeat_ngram_size <= 0 and repetition_penalty == 1.0:
        return []
    from transformers import LogitsProcessor, NoRepeatNGramLogitsProcessor, RepetitionPenaltyLogitsProcessor

    from core.constrained import answer_start

    class _AnswerOnly(LogitsProcessor):
        def __init__(self, inner: Any):
            self.inner = inner

        def __call__(self, input_ids: Any, scores: Any) -> Any:
            if isinstance(prompt_width, int):
                return self.inner(input_ids[:, prompt_width:], scores)
            for row in range(input_ids.shape[0]):
                start = answer_start(prompt_width, row)
                scores[row : row + 1] = self.inner(input_ids[row : row + 1, start:], scores[row : row + 1])
            return scores

    procs: list[Any] = []
    if repetition_penalty != 1.0:
        procs.append(_AnswerOnly(RepetitionPenaltyLogitsProcessor(float(repetition_penalty))))
    if no_repeat_ngram_size > 0:
        procs.append(_AnswerOnly(NoRepeatNGramLogitsProcessor(no_repeat_ngram_size)))
    return procs


class _RowView(Sequence[Any]):
    """A per-prompt list seen through the rolling batch's current rows (row r -> values[rows[r].index])."""

    def __init__(self, rows: list[Row], values: Sequence[Any]):
        self.rows, self.values = rows, values

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, r: Any) -> Any:
        return self.values[self.rows[r].index]


@dataclass
class Generation:
    text: str
    new_tokens: int
    seconds: float  # wall time of the batch this prompt was in, shared evenly
    prompt_truncated: bool
    token_ids: tuple[int, ...] = ()  # the new tokens, up to and including the stop token
    batch_seconds: float = 0.0  # wall time of the whole batch: how long this prompt's caller waited
    raw_greedy: bool = False  # every token was the model's highest-scoring one (no constraint, penalty or bonus)
    reused_tokens: int = 0  # leading tokens taken from an earlier answer (see Generator.generate's `earlier`)
    reused_seconds: float = 0.0  # that earlier answer's seconds, in proportion to the tokens taken from it


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


class Generator:
    """Wraps a model + tokenizer for batched chat generation in a rolling batch (core.rolling_batch): longest
    prompts first, a row leaves when its answer ends and the next prompt takes its place. Rows are [shared
    prefix][padding][own tokens]: the prefix every prompt shares is run once and its KV cache copied to every row;
    positions come from the attention mask, so the padding in the middle changes nothing the model sees."""

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
        min_words: int = 0,
        earlier: Sequence[Generation | None] | None = None,
    ) -> list[Generation]:
        """Constrained answers (choices / json_schema) get no repetition control: their structure repeats by design
        (`"name": ` once per medication), and a ban could leave the constraint no token to choose. Free text with
        `answer_end` stops where it says (checked during decoding) and is cut there.

        `min_words`: free text only, no end of turn before the answer has this many words (core.answer_length).

        `earlier`: for constrained greedy decoding, each prompt's greedy unconstrained answer when one was made
        (the free twin of a system). The constrained answer agrees with it up to the first token the constraint
        refuses (core.constrained.accepted_part), so decoding resumes there, and an answer the constraint accepts
        whole is returned without decoding: the same answers for less work."""
        import torch

        tok = self.tokenizer
        budget = self.max_length - max_new_tokens
        encoded: list[tuple[list[int], bool]] = []
        for messages in prompts:
            fitted, cut = fit_prompt(tok, list(messages), budget)
            encoded.append((chat_ids(tok, fitted, add_generation_prompt=True), cut))
        results: list[Generation | None] = [None] * len(encoded)
        stop_ids = end_of_turn_ids(tok)
        forced: list[list[int]] = [[] for _ in encoded]
        if earlier is not None and (choices or json_schema) and not do_sample:
            forced = self._resume_points(
                encoded, earlier, results, choices, json_schema, max_new_tokens, stop_ids, on_batch
            )
        device = next(self.model.parameters()).device
        pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        was_training = self.model.training
        self.model.eval()
        todo = [i for i, r in enumerate(results) if r is None]
        prefix_len = shared_prefix([encoded[i][0] for i in todo]) if self.reuse_prefix and todo else 0
        ends_early = answer_end is not None and not (choices or json_schema)
        prefix_cache = None
        if prefix_len >= MIN_SHARED_PREFIX:
            with torch.inference_mode(), inference_autocast(self.model, self.precision):
                prefix = torch.tensor([encoded[todo[0]][0][:prefix_len]], device=device)
                prefix_cache = self.model(input_ids=prefix, use_cache=True).past_key_values
        else:
            prefix_len = 0
        from transformers import LogitsProcessorList

        kwargs: dict[str, Any] = {"do_sample": do_sample}
        if do_sample:
            kwargs["temperature"] = temperature
        else:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        constrained = bool(choices or json_schema)

        def processors(starts: list[int], rows: list[Row]) -> list[Any]:
            if constrained:
                from core.constrained import choice_processor, json_schema_processor

                return [
                    choice_processor(tok, choices or [], starts)
                    if choices
                    else json_schema_processor(tok, json_schema or {}, starts, max_new_tokens)
                ]
            procs = repetition_processors(no_repeat_ngram_size, repetition_penalty, starts)
            if min_words > 0:
                prompt_of_row = _RowView(rows, range(len(encoded)))
                procs.append(min_words_processor(tok, starts, stop_ids, min_words, prompt_of_row))
            if grounding is not None:
                from core.grounding import grounding_processor

                procs.append(grounding_processor(tok, _RowView(rows, grounding), starts, stop_ids, coverage_bonus))
            return procs

        def stoppers(starts: list[int], rows: list[Row]) -> list[Any]:
            found = [budget_stopper(starts, max_new_tokens)]
            if ends_early and answer_end is not None:
                found.append(answer_end_stopper(tok, starts, answer_end))
            return found

        # answers picked by the model's top score alone (a constrained twin may resume from them)
        raw_greedy = not (do_sample or constrained or grounding is not None)
        raw_greedy = raw_greedy and no_repeat_ngram_size <= 0 and repetition_penalty == 1.0 and min_words <= 0

        def finished(done: Finished) -> None:
            i, answer = done.row.index, done.answer
            text = tok.decode(answer, skip_special_tokens=True).strip()
            text = final_text(text, answer_end if ends_early else None, grounding[i] if grounding else None)
            results[i] = Generation(
                text,
                len(answer),
                done.row.seconds,
                encoded[i][1],
                tuple(answer),
                batch_seconds=done.waited,
                raw_greedy=raw_greedy,
                **_reuse(earlier[i] if earlier is not None else None, len(forced[i])),
            )
            if on_batch:
                on_batch(1)

        queue = sorted((Row(i, encoded[i][0] + forced[i], len(forced[i])) for i in todo), key=lambda row: -len(row.ids))
        try:
            with torch.inference_mode(), inference_autocast(self.model, self.precision):
                decode_rolling(
                    self.model,
                    queue,
                    batch_size=batch_size,
                    batch_tokens=batch_tokens,
                    max_new_tokens=max_new_tokens,
                    prefix=(prefix_len, prefix_cache) if prefix_cache is not None else None,
                    pad_id=pad_id,
                    stop_ids=stop_ids,
                    hooks=Hooks(
                        lambda starts, rows: LogitsProcessorList(processors(starts, rows)),
                        stoppers,
                    ),
                    generate_kwargs=kwargs,
                    on_finished=finished,
                )
        finally:
            if was_training:
                self.model.train()
        return [r for r in results if r is not None]

    def _resume_points(
        self,
        encoded: Sequence[tuple[list[int], bool]],
        earlier: Sequence[Generation | None],
        results: list[Generation | None],
        choices: Sequence[str] | None,
        json_schema: dict[str, Any] | None,
        max_new_tokens: int,
        stop_ids: Sequence[int],
        on_batch: Callable[[int], None] | None,
    ) -> list[list[int]]:
        """For each prompt, the leading tokens of its earlier greedy answer that constrained decoding would write
        too; where those make the whole constrained answer, its Generation goes into `results` at once."""
        from core.constrained import accepted_part, choice_processor, json_schema_processor

        replay = (
            choice_processor(self.tokenizer, choices, 0)
            if choices
            else json_schema_processor(self.tokenizer, json_schema or {}, 0, max_new_tokens)
        )
        width = vocab_width(self.model, self.tokenizer)
        forced: list[list[int]] = [[] for _ in encoded]
        finished = 0
        for i, before in enumerate(earlier):
            if before is None or not before.raw_greedy or not before.token_ids:
                continue
            k, complete = accepted_part(
                replay, before.token_ids, vocab_width=width, stop_ids=stop_ids, max_new_tokens=max_new_tokens
            )
            answer = list(before.token_ids[:k])
            if complete:
                text = self.tokenizer.decode(answer, skip_special_tokens=True).strip()
                ended = bool(answer) and (answer[-1] in stop_ids or len(answer) >= max_new_tokens)
                n_tokens = len(answer) if ended else len(answer) + 1  # + the end of turn it would write
                results[i] = Generation(
                    text, n_tokens, 0.0, encoded[i][1], tuple(answer), raw_greedy=False, **_reuse(before, k)
                )
                finished += 1
            else:
                forced[i] = answer
        if on_batch and finished:
            on_batch(finished)
        return forced


def _reuse(before: Generation | None, k: int) -> dict[str, Any]:
    """The reuse fields of a Generation that took its first k tokens from `before`."""
    if before is None or k == 0:
        return {}
    return {"reused_tokens": k, "reused_seconds": before.seconds * k / max(len(before.token_ids), 1)}


def vocab_width(model: Any, tokenizer: Any) -> int:
    """Columns of the model's next-token scores (may be wider than the tokenizer's vocabulary)."""
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    weight = getattr(head, "weight", None)
    return int(weight.shape[0]) if weight is not None else len(tokenizer)


def budget_stopper(starts: Sequence[int], max_new_tokens: int) -> Any:
    """Ends each row when its answer (counted from its own start column, read live) reaches max_new_tokens: rows
    that joined the batch later, or resume an earlier answer, have their own number of tokens left."""
    import torch
    from transformers import StoppingCriteria

    class _Budget(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            begin = torch.tensor(list(starts[: input_ids.shape[0]]), device=input_ids.device)
            return (input_ids.shape[1] - begin) >= max_new_tokens

    return _Budget()
