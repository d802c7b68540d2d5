"""Label scoring: instead of decoding, score every allowed answer (each label's complete JSON plus the end-of-turn
token) by the model's log-likelihood given the prompt, and pick the argmax. The prompt runs once; its KV cache is
repeated for all answers, which run in one batched forward. Gives an exact argmax over the label set and a
probability per label (softmax over the answers' total log-likelihoods)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.formatting import Messages, chat_ids, fit_prompt
from core.generate import inference_autocast


@dataclass
class ScoredChoice:
    index: int
    log_likelihoods: list[float]
    probabilities: list[float]
    prompt_truncated: bool


def choice_ids(tokenizer: Any, choices: Sequence[str]) -> list[list[int]]:
    from core.constrained import turn_end_id

    eot = turn_end_id(tokenizer)
    return [tokenizer(c, add_special_tokens=False)["input_ids"] + [eot] for c in choices]


def score_choices(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[Messages],
    choices: Sequence[str],
    *,
    max_length: int,
    precision: str = "fp32",
    on_prompt: Callable[[int], None] | None = None,
) -> list[ScoredChoice]:
    import torch

    answers = choice_ids(tokenizer, choices)
    longest = max(len(a) for a in answers)
    n = len(answers)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    body = torch.full((n, longest), pad, dtype=torch.long)
    mask = torch.zeros((n, longest), dtype=torch.long)
    for i, a in enumerate(answers):
        body[i, : len(a)] = torch.tensor(a)
        mask[i, : len(a)] = 1
    device = next(model.parameters()).device
    body, mask = body.to(device), mask.to(device)
    out: list[ScoredChoice] = []
    was_training = model.training
    model.eval()
    try:
        for messages in prompts:
            fitted, cut = fit_prompt(tokenizer, list(messages), max_length - longest)
            ids = torch.tensor([chat_ids(tokenizer, fitted, add_generation_prompt=True)], device=device)
            with torch.inference_mode(), inference_autocast(model, precision):
                first = model(input_ids=ids, use_cache=True)
                cache = first.past_key_values
                cache.batch_repeat_interleave(n)
                p = ids.shape[1]
                attention = torch.cat([torch.ones((n, p), dtype=torch.long, device=device), mask], dim=1)
                positions = torch.arange(p, p + longest, device=device).unsqueeze(0).expand(n, -1)
                rest = model(
                    input_ids=body, attention_mask=attention, position_ids=positions, past_key_values=cache
                ).logits.float()
            start = torch.log_softmax(first.logits[0, -1].float(), dim=-1)
            logp = torch.log_softmax(rest[:, :-1], dim=-1)  # position t predicts answer token t+1
            totals = []
            for i, a in enumerate(answers):
                total = float(start[a[0]])
                if len(a) > 1:
                    steps = torch.arange(len(a) - 1, device=device)
                    total += float(logp[i, steps, body[i, 1 : len(a)]].sum())
                totals.append(total)
            top = max(totals)
            weights = [math.exp(t - top) for t in totals]
            z = sum(weights)
            out.append(ScoredChoice(totals.index(top), totals, [w / z for w in weights], cut))
            if on_prompt:
                on_prompt(1)
    finally:
        if was_training:
            model.train()
    return out
