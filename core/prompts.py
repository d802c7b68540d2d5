"""The prompt a fine-tuned adapter is trained with and must be prompted with, built in one place for training,
evaluation, `vft predict`, the demos and serving: the pack's full, compact or minimal prompt (training.prompt) and, with
training.retrieval_k > 0, the k most similar training examples as turns before the input (retrieval-augmented
fine-tuning). A training example never sees itself among its neighbours."""

from __future__ import annotations

from typing import Any

from core.config import RunConfig
from core.formatting import Messages
from core.pack import Example, Pack


def adapter_prompt(
    pack: Pack, cfg: RunConfig, example: Example | str, retriever: Any = None, *, exclude_self: bool = False
) -> Messages:
    from core.fewshot import few_shot_messages

    style = cfg.training.prompt
    k = cfg.training.retrieval_k
    chat_file_prompt = isinstance(example, Example) and example.prompt is not None
    if not k or retriever is None or chat_file_prompt:
        return pack.prompt_messages(example, style=style)
    text = example.text if isinstance(example, Example) else example
    own_id = example.id if isinstance(example, Example) and exclude_self else None
    shots = retriever.nearest(text, k, exclude_id=own_id)
    return few_shot_messages(pack, example, shots, style=style)
