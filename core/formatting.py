"""Chat formatting and tokenization shared by training, `vft inspect` and generation.

One function renders prompts for all three, so the template the model is trained on is the one it is
prompted with, and the end-of-turn token is part of every supervised completion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Messages = list[dict[str, str]]


def chat_ids(tokenizer: Any, messages: Messages, *, add_generation_prompt: bool) -> list[int]:
    out = tokenizer.apply_chat_template(
        messages, add_generation_prompt=add_generation_prompt, tokenize=True, return_dict=True
    )
    return list(out["input_ids"])


def fit_prompt(tokenizer: Any, messages: Messages, budget: int) -> tuple[Messages, bool]:
    """Shorten the last user message (keeping its start) until the rendered prompt fits `budget` tokens.
    Returns the messages and whether anything was cut."""
    ids = chat_ids(tokenizer, messages, add_generation_prompt=True)
    if len(ids) <= budget:
        return messages, False
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    content_ids = tokenizer(messages[last_user]["content"], add_special_tokens=False)["input_ids"]
    for _ in range(4):
        overflow = len(ids) - budget
        keep = len(content_ids) - overflow - 4
        if keep <= 0:
            break
        content_ids = content_ids[:keep]
        shortened = [dict(m) for m in messages]
        shortened[last_user]["content"] = tokenizer.decode(content_ids, skip_special_tokens=True) + " …"
        ids = chat_ids(tokenizer, shortened, add_generation_prompt=True)
        if len(ids) <= budget:
            return shortened, True
    raise ValueError(f"prompt cannot fit {budget} tokens even with the input cut away; raise max_length")


@dataclass
class TokenizedExample:
    input_ids: list[int]
    completion_mask: list[int]
    truncated: bool

    @property
    def supervised_tokens(self) -> int:
        return sum(self.completion_mask)


def tokenize_example(tokenizer: Any, prompt: Messages, target: str, max_length: int) -> TokenizedExample:
    """Prompt/completion -> ids with a mask that is 1 on the assistant's answer and its end-of-turn token."""
    target_ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    budget = max_length - len(target_ids) - 8  # room for the assistant header and end-of-turn tokens
    if budget <= 0:
        raise ValueError(f"target alone is {len(target_ids)} tokens; raise max_length above {len(target_ids) + 64}")
    prompt, truncated = fit_prompt(tokenizer, prompt, budget)
    prompt_ids = chat_ids(tokenizer, prompt, add_generation_prompt=True)
    full_ids = chat_ids(tokenizer, [*prompt, {"role": "assistant", "content": target}], add_generation_prompt=False)
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise ValueError(
            "chat template renders the prompt differently with and without the answer; "
            "training and inference would disagree"
        )
    mask = [0] * len(prompt_ids) + [1] * (len(full_ids) - len(prompt_ids))
    return TokenizedExample(full_ids[:max_length], mask[:max_length], truncated)


END_OF_TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>")


def end_of_turn_ids(tokenizer: Any) -> list[int]:
    """Token ids that end an assistant turn (eos plus ChatML/Llama-3 style markers present in the vocab)."""
    ids = {tokenizer.eos_token_id}
    vocab = tokenizer.get_vocab()
    for tok in END_OF_TURN_MARKERS:
        if tok in vocab:
            ids.add(vocab[tok])
    return sorted(i for i in ids if i is not None)
