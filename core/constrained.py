"""Constrained decoding through transformers' public LogitsProcessor hook: either a finite set of valid outputs
(a token trie; exact and cheap, used for classification) or any JSON schema (lm-format-enforcer's character-level
JSON-schema parser, with consecutive whitespace bounded so generation cannot run away)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from core.unique_items import list_cursor, repeat_rule, unique_list_keys
from core.vocab import token_texts

MAX_CONSECUTIVE_WHITESPACE = 2
CLOSING_RESERVE = 40  # tokens kept at the end of the budget for closing an answer that runs long


def turn_end_id(tokenizer: Any) -> int:
    vocab = tokenizer.get_vocab()
    from core.formatting import END_OF_TURN_MARKERS

    for tok in END_OF_TURN_MARKERS:
        if tok in vocab:
            return vocab[tok]
    return tokenizer.eos_token_id


class ChoiceTrie:
    """Token-level prefix tree of the allowed completions (each ending with an end-of-turn token)."""

    def __init__(self, sequences: Sequence[Sequence[int]]):
        self.next: dict[tuple[int, ...], set[int]] = {}
        for seq in sequences:
            for i in range(len(seq)):
                self.next.setdefault(tuple(seq[:i]), set()).add(seq[i])

    def allowed(self, prefix: Sequence[int]) -> set[int] | None:
        return self.next.get(tuple(prefix))


def answer_start(prompt_length: int | Sequence[int], row: int) -> int:
    """Where a row's answer begins: one prompt width for the batch, or one per row (rows that continue an earlier
    answer, right-aligned, start at different columns)."""
    return prompt_length if isinstance(prompt_length, int) else prompt_length[row]


def choice_processor(tokenizer: Any, choices: Sequence[str], prompt_length: int | Sequence[int]) -> Any:
    """Mask every token that would leave the set of allowed completions."""
    import torch
    from transformers import LogitsProcessor

    eot = turn_end_id(tokenizer)
    trie = ChoiceTrie([tokenizer(c, add_special_tokens=False)["input_ids"] + [eot] for c in choices])

    class _Choices(LogitsProcessor):
        ending_ids = frozenset({eot})  # what may follow a complete answer (core.constrained.accepted_part)

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            mask = torch.full_like(scores, float("-inf"))
            for row in range(input_ids.shape[0]):
                allowed = trie.allowed(input_ids[row, answer_start(prompt_length, row) :].tolist())
                mask[row, list(allowed if allowed is not None else {eot})] = 0
            return scores + mask

    return _Choices()


@functools.lru_cache(maxsize=4)
def _tokenizer_data(tokenizer: Any) -> Any:
    """lm-format-enforcer's view of the vocabulary (built once per tokenizer; a few seconds for 50k tokens)."""
    from lmformatenforcer import TokenEnforcerTokenizerData

    special = set(tokenizer.all_special_ids)
    zero = tokenizer.encode("0", add_special_tokens=False)[-1]
    regular = []
    texts = token_texts(tokenizer)
    for idx in range(len(tokenizer)):
        if idx in special:
            continue
        after_zero = tokenizer.decode([zero, idx])[1:]
        alone = texts[idx]
        regular.append((idx, after_zero, len(after_zero) > len(alone)))

    def decode(tokens: list[int]) -> str:
        return tokenizer.decode(tokens).rstrip("\ufffd")

    return TokenEnforcerTokenizerData(regular, decode, turn_end_id(tokenizer), False, len(tokenizer))


@functools.lru_cache(maxsize=4)
def _whitespace_ids(tokenizer: Any) -> frozenset[int]:
    return frozenset(i for i, t in enumerate(token_texts(tokenizer)) if t and not t.strip())


@functools.lru_cache(maxsize=4)
def _control_ids(tokenizer: Any) -> frozenset[int]:
    """Tokens carrying raw control characters next to text (never valid in JSON; only bare whitespace is), and
    partial UTF-8 byte tokens, which the parser cannot see and which would let strings grow without bound."""
    return frozenset(
        i
        for i, text in enumerate(token_texts(tokenizer))
        if "\ufffd" in text or (any(ord(ch) < 32 for ch in text) and text.strip())
    )


@functools.lru_cache(maxsize=4)
def _closing_ids(tokenizer: Any) -> frozenset[int]:
    """Tokens that end things: quotes, brackets, braces (alone or together) and null."""
    stripped = (text.strip() for text in token_texts(tokenizer))
    return frozenset(i for i, text in enumerate(stripped) if text == "null" or (text and set(text) <= set('"]}')))


@functools.lru_cache(maxsize=4)
def _quote_closing_ids(tokenizer: Any) -> frozenset[int]:
    """Closing tokens that begin with a quote ('"', '"]', '"}', ...): they end an open string before anything else."""
    texts = token_texts(tokenizer)
    return frozenset(i for i in _closing_ids(tokenizer) if texts[i].strip().startswith('"'))


class _IdMasks:
    """Token-id sets as boolean masks over the model's vocabulary (which may be wider than the tokenizer's), so each
    decoding step is a few tensor operations instead of Python loops over ~50k token ids."""

    def __init__(self, width: int, cache_size: int = 512):
        self.width, self.cache_size = width, cache_size
        self._allowed: dict[int, tuple[Any, Any]] = {}  # id(token list) -> (the list, its mask)

    def of(self, ids: Any) -> Any:
        """Through NumPy: torch.as_tensor of a 50k-int Python list takes ~8 ms, NumPy ~1.5 ms (measured here)."""
        import numpy as np
        import torch

        mask = torch.zeros(self.width, dtype=torch.bool)
        if len(ids):
            index = np.array(ids, dtype=np.int64) if isinstance(ids, list) else np.fromiter(ids, np.int64, len(ids))
            mask[torch.from_numpy(index)] = True
        return mask

    def allowed(self, tokens: list[int]) -> Any:
        """The mask of an lm-format-enforcer token list. The enforcer hands back the same list object for a parser
        state it has seen, so the mask is built once per state (a bounded cache: the oldest state goes first)."""
        hit = self._allowed.get(id(tokens))
        if hit is not None and hit[0] is tokens:
            return hit[1]
        mask = self.of(tokens)
        if len(self._allowed) >= self.cache_size:
            del self._allowed[next(iter(self._allowed))]
        self._allowed[id(tokens)] = (tokens, mask)
        return mask


def json_schema_processor(
    tokenizer: Any, schema: dict[str, Any], prompt_length: int | Sequence[int], max_new_tokens: int | None = None
) -> Any:
    """Allow only tokens that keep the output a valid prefix of a JSON document matching `schema`. With
    max_new_tokens, the last CLOSING_RESERVE tokens of the budget prefer tokens that close the open string, list
    or object (or fill a value with null), so an answer that runs long still ends as complete JSON. Before that,
    a string list marked uniqueItems ends at its first repeated item (core.unique_items)."""
    import torch
    from lmformatenforcer import CharacterLevelParserConfig, JsonSchemaParser, TokenEnforcer
    from lmformatenforcer.consts import COMPLETE_ALPHABET
    from transformers import LogitsProcessor

    # Raw control characters are not valid inside JSON strings; keep them out of the string alphabet.
    alphabet = "".join(ch for ch in COMPLETE_ALPHABET if ord(ch) >= 32)
    config = CharacterLevelParserConfig(alphabet=alphabet, max_consecutive_whitespaces=MAX_CONSECUTIVE_WHITESPACE)
    enforcer = TokenEnforcer(_tokenizer_data(tokenizer), JsonSchemaParser(schema, config=config))
    eot = turn_end_id(tokenizer)
    blank_ids = _whitespace_ids(tokenizer)
    reserve = min(CLOSING_RESERVE, max_new_tokens // 3) if max_new_tokens else 0
    unique_keys = unique_list_keys(schema)
    sets: dict[str, Any] = {}  # masks, built at the first step, when the model's vocabulary width is known

    def first_nonempty(*masks: Any) -> Any:
        return next((m for m in masks if bool(m.any())), masks[-1])

    class _Schema(LogitsProcessor):
        ending_ids = frozenset({eot}) | blank_ids  # what may follow a complete answer (accepted_part)

        def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
            if not sets:
                masks = _IdMasks(scores.shape[-1])
                sets.update(
                    masks=masks,
                    eot=masks.of([eot]),
                    blank=masks.of(blank_ids),
                    not_control=~masks.of(_control_ids(tokenizer)),
                    closing=masks.of(_closing_ids(tokenizer)),
                    quote_or_eot=masks.of(_quote_closing_ids(tokenizer) | {eot}),
                )
            masks, eot_only, blank = sets["masks"], sets["eot"], sets["blank"]
            keep = torch.zeros_like(scores, dtype=torch.bool)
            for row in range(input_ids.shape[0]):
                generated = input_ids[row, answer_start(prompt_length, row) :].tolist()
                if eot in generated:  # this row is finished; keep it finished
                    keep[row] = eot_only
                    continue
                allowed = masks.allowed(_enforcer_tokens(enforcer, generated)) & sets["not_control"]
                allowed = first_nonempty(allowed, eot_only)
                closing_phase = bool(reserve) and len(generated) >= max_new_tokens - reserve  # type: ignore[operator]
                if unique_keys and not closing_phase:
                    cursor = list_cursor(tokenizer.decode(generated))
                    if cursor is not None and cursor.key in unique_keys:
                        rule = repeat_rule(cursor, tokenizer)
                        if rule is not None:
                            kind, ids = rule
                            ruled = masks.of(ids)
                            allowed = first_nonempty(allowed & (ruled if kind == "only" else ~ruled), allowed)
                # The parser's own whitespace bound does not hold inside nested values; enforce it here.
                tail = generated[-MAX_CONSECUTIVE_WHITESPACE:]
                if len(tail) == MAX_CONSECUTIVE_WHITESPACE and all(t in blank_ids for t in tail):
                    allowed = first_nonempty(allowed & ~blank, eot_only)
                if closing_phase:
                    # a quote first (inside a string, brackets are only text), then brackets and null; where
                    # nothing closes (a required key must be written), at least no whitespace between tokens
                    allowed = first_nonempty(
                        allowed & sets["quote_or_eot"], allowed & sets["closing"], allowed & ~blank, allowed
                    )
                keep[row] = allowed
            return scores.masked_fill(~keep, float("-inf"))

    return _Schema()


def _enforcer_tokens(enforcer: Any, generated: list[int]) -> Any:
    """The enforcer's allowed tokens after `generated`. It takes a token sequence whose parent it has not seen for
    the start of a new answer, so the tokens of a resumed answer (Generator.generate's `earlier`) are walked through
    first."""
    if generated and tuple(generated[:-1]) not in enforcer.prefix_states:
        for i in range(len(generated)):
            enforcer.get_allowed_tokens(generated[:i])
    return enforcer.get_allowed_tokens(generated).allowed_tokens


def accepted_part(
    processor: Any, tokens: Sequence[int], *, vocab_width: int, stop_ids: Sequence[int], max_new_tokens: int
) -> tuple[int, bool]:
    """How much of an earlier greedy, unconstrained answer to the same prompt a constrained decoder would have
    written too. Greedy decoding takes the highest-scoring token; while that token is one the constraint allows,
    the constrained decoder takes the same one, so the two answers agree up to the first token the constraint
    refuses. `processor` is this module's processor built with prompt_length 0 (it reads each answer from its
    first column). Returns (k, complete): the first k tokens are the constrained answer's too, and with
    `complete` the constrained answer ends there as well (its text is the same once trailing whitespace is
    stripped), so nothing is left to decode."""
    import torch

    tokenizer_ends = set(stop_ids)
    ending = _ending_mask(processor, vocab_width)

    def allowed_after(prefix: Sequence[int]) -> Any:
        ids = torch.tensor([list(prefix)], dtype=torch.long).reshape(1, len(prefix))
        return processor(ids, torch.zeros((1, vocab_width))).isfinite()[0]

    tokens = list(tokens)[:max_new_tokens]
    for j, token in enumerate(tokens):
        allowed = allowed_after(tokens[:j])
        if bool(allowed[token]):
            if token in tokenizer_ends:
                return j + 1, True
            continue
        # a refused end of turn where only the end (or whitespace before it) may follow: the same text
        return j, token in tokenizer_ends and not bool((allowed & ~ending).any())
    if len(tokens) >= max_new_tokens:
        return len(tokens), True  # the constrained decoder stops at the same budget
    return len(tokens), not bool((allowed_after(tokens) & ~ending).any())


def _ending_mask(processor: Any, vocab_width: int) -> Any:
    """End-of-turn and whitespace tokens: what may follow a complete answer."""
    import torch

    mask = torch.zeros(vocab_width, dtype=torch.bool)
    mask[list(processor.ending_ids)] = True
    return mask


def bound_schema(
    schema: dict[str, Any], *, max_items: int, max_chars: int, unique_strings: bool = False
) -> dict[str, Any]:
    """A copy of `schema` where every array and free string has an upper size. Without bounds a small model can
    repeat one list item until the token budget runs out and the answer is cut mid-JSON; with them the decoder
    must close the list. Bounds already in the schema (or enums, constants, patterns) are kept. unique_strings:
    string lists are sets to the pack, so mark them uniqueItems: the decoder ends such a list at its first repeat."""

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(x) for x in node]
        if not isinstance(node, dict):
            return node
        out = {key: walk(value) for key, value in node.items()}
        if out.get("type") == "array":
            out.setdefault("maxItems", max_items)
            if unique_strings and isinstance(out.get("items"), dict) and out["items"].get("type") == "string":
                out.setdefault("uniqueItems", True)
        if out.get("type") == "string" and not {"enum", "const", "pattern", "format"} & out.keys():
            out.setdefault("maxLength", max_chars)
        return out

    return walk(schema)
