"""Where a causal LM's transformer blocks and their linear layers are, so LoRA can be limited to the top blocks.

peft takes `layers_to_transform` only with named target modules, so 'all-linear' is resolved here to the leaf
names of the linear layers inside the blocks (the output head and embeddings are never adapted).
"""

from __future__ import annotations

import re
from typing import Any

_BLOCK = re.compile(r"\.(?:layers|h|blocks|layer)\.(\d+)\.")


def block_count(model: Any) -> int:
    """Number of transformer blocks: the model config's own count, else the highest block index seen + 1."""
    config = getattr(model, "config", None)
    count = getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", None)
    if count:
        return int(count)
    indices = [int(m.group(1)) for name, _ in model.named_modules() if (m := _BLOCK.search(f".{name}."))]
    if not indices:
        raise ValueError("cannot find the transformer blocks of this model")
    return max(indices) + 1


def linear_module_names(model: Any) -> list[str]:
    """Sorted leaf names of the linear layers inside the transformer blocks (q_proj, up_proj, ...), including
    bitsandbytes' 4-bit linear layers."""
    import torch

    names = set()
    for name, module in model.named_modules():
        if not _BLOCK.search(f".{name}."):
            continue
        is_linear = isinstance(module, torch.nn.Linear) or type(module).__name__ in {"Linear4bit", "Linear8bitLt"}
        if is_linear:
            names.add(name.rsplit(".", 1)[-1])
    if not names:
        raise ValueError("no linear layers found inside the transformer blocks of this model")
    return sorted(names)
