"""Each token's text, decoded once per tokenizer. The constrained decoder's token classes (whitespace, closers,
control characters) and the list rules all read it; decoding a 50k vocabulary one token at a time costs about a
second, which was paid once per class."""

from __future__ import annotations

import functools
from typing import Any


@functools.lru_cache(maxsize=4)
def token_texts(tokenizer: Any) -> tuple[str, ...]:
    """tokenizer.decode([i]) for every id of the tokenizer, in id order."""
    return tuple(tokenizer.decode([i]) for i in range(len(tokenizer)))
