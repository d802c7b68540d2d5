"""Answer long inputs window by window. The pack splits each input (Pack.windows), every window of every input is
answered in one batched generation, and the pack merges the parsed answers of an input's windows into one
(Pack.merge_windows). Every caller goes through here (evaluation, predict, demos, serving), so an input is answered
the same way everywhere; a pack that does not split inputs gets its generations back unchanged."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from core.errors import ParseError
from core.generate import Generation
from core.pack import Example, Pack

Item = Example | str


def _with_text(item: Item, text: str) -> Item:
    return text if isinstance(item, str) else replace(item, text=text)


def _text(item: Item) -> str:
    return item if isinstance(item, str) else item.text


def split_into_windows(pack: Pack, items: Sequence[Item]) -> tuple[list[Item], list[int]]:
    """Every window of every item, and for each window the index of the item it came from."""
    pieces: list[Item] = []
    owners: list[int] = []
    for i, item in enumerate(items):
        parts = pack.windows(_text(item))
        pieces.extend([item] if len(parts) == 1 else [_with_text(item, part) for part in parts])
        owners.extend([i] * len(parts))
    return pieces, owners


def merge_generations(pack: Pack, gens: Sequence[Generation]) -> Generation:
    """One generation for an input from its windows' generations: the merged answer as the pack writes answers.
    When no window's answer parses, the first window's text stands (and fails to parse downstream, counted)."""
    parsed: list[Any | None] = []
    for g in gens:
        try:
            parsed.append(pack.parse(g.text))
        except ParseError:
            parsed.append(None)
    text = gens[0].text
    if any(p is not None for p in parsed):
        text = pack.format_answer(pack.merge_windows(parsed))
    return Generation(
        text=text,
        new_tokens=sum(g.new_tokens for g in gens),
        seconds=sum(g.seconds for g in gens),
        prompt_truncated=any(g.prompt_truncated for g in gens),
        batch_seconds=sum(g.batch_seconds for g in gens),  # the windows' batch waits summed: an upper bound
        reused_tokens=sum(g.reused_tokens for g in gens),
        reused_seconds=sum(g.reused_seconds for g in gens),
    )


Progress = Callable[[float], None]


def generate_by_windows(
    pack: Pack,
    items: Sequence[Item],
    generate: Callable[[list[Item], Progress], list[Generation]],
    on_progress: Progress | None = None,
) -> list[Generation]:
    """`generate(pieces, on_batch)` answers a list of items (it builds their prompts); here it is called once, on
    every window, with an `on_batch` that advances `on_progress` in items, not windows."""
    pieces, owners = split_into_windows(pack, items)
    share = len(items) / len(pieces) if pieces else 1.0
    gens = generate(pieces, lambda n: on_progress(n * share) if on_progress else None)
    if len(pieces) == len(items):
        return gens
    grouped: list[list[Generation]] = [[] for _ in items]
    for owner, gen in zip(owners, gens, strict=True):
        grouped[owner].append(gen)
    return [group[0] if len(group) == 1 else merge_generations(pack, group) for group in grouped]
