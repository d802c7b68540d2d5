"""Lists that are sets (`uniqueItems`) under constrained decoding. lm-format-enforcer checks structure, not repeats,
so a small model can fill a list with one item until the token budget runs out, and the fields after it are never
written. Where the schema marks a string list unique, the first repeated item ends the list: the decoder may close
the repeat only with a bracket, and the form keeps the item once. (Forbidding the repeat outright was tried: the
model then stretches the item into a near-copy, "right foot swelling in the right calf", and loops on.)"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from core.vocab import token_texts


def unique_list_keys(schema: dict[str, Any]) -> frozenset[str]:
    """Property names whose value (in any branch of anyOf/oneOf, through $ref) is an array of strings with
    uniqueItems. Matched by name wherever the key appears: forms do not reuse a name for a different list."""
    defs = schema.get("$defs", {})

    def resolve(node: Any) -> Any:
        ref = node.get("$ref", "") if isinstance(node, dict) else ""
        return defs.get(ref.rsplit("/", 1)[-1], node) if ref.startswith("#/$defs/") else node

    def branches(node: Any) -> Iterable[dict[str, Any]]:
        node = resolve(node)
        if not isinstance(node, dict):
            return
        yield node
        for key in ("anyOf", "oneOf"):
            for option in node.get(key, []):
                yield from branches(option)

    keys: set[str] = set()
    seen: set[int] = set()

    def walk(node: Any) -> None:
        for branch in branches(node):
            if id(branch) in seen:
                continue
            seen.add(id(branch))
            for name, prop in branch.get("properties", {}).items():
                for option in branches(prop):
                    items = resolve(option.get("items", {}))
                    if option.get("type") == "array" and option.get("uniqueItems") and items.get("type") == "string":
                        keys.add(name)
                walk(prop)
            if "items" in branch:
                walk(branch["items"])

    walk(schema)
    return frozenset(keys)


def same_item(text: str) -> str:
    """The comparison key of a list item: case, surrounding punctuation and runs of spaces do not matter."""
    return " ".join(text.split()).strip(".;, ").casefold()


@dataclass
class _Container:
    is_array: bool
    key: str | None  # the object key this container is the value of
    strings: list[str] = field(default_factory=list)  # arrays: the string items written so far
    after_string: bool = False  # arrays: a string item just closed, no comma yet
    last_key: str | None = None  # objects: the key whose value comes next


@dataclass(frozen=True)
class ListCursor:
    """The answer ends in a list: inside a string item (partial is its text so far) or right after one."""

    key: str | None
    partial: str | None
    items: tuple[str, ...]  # the list's string items written so far (closed ones)

    def repeats_last(self) -> bool:
        """Right after an item that repeats an earlier one."""
        if self.partial is not None or not self.items:
            return False
        return same_item(self.items[-1]) in {same_item(s) for s in self.items[:-1]}


def list_cursor(text: str) -> ListCursor | None:
    """Scan a JSON prefix; a ListCursor when it ends inside a string item of an array or just after one."""
    stack: list[_Container] = []
    in_string = escaped = False
    buffer: list[str] = []
    expecting_key = False
    for ch in text:
        if in_string:
            if escaped:
                buffer.append(ch)
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
                value = "".join(buffer)
                top = stack[-1] if stack else None
                if top is not None and not top.is_array and expecting_key:
                    top.last_key, expecting_key = value, False
                elif top is not None and top.is_array:
                    top.strings.append(value)
                    top.after_string = True
            else:
                buffer.append(ch)
            continue
        if ch.isspace():
            continue
        if stack and stack[-1].is_array:
            stack[-1].after_string = False
        if ch == '"':
            in_string, buffer = True, []
        elif ch in "{[":
            parent = stack[-1] if stack else None
            key = parent.last_key if parent is not None and not parent.is_array else None
            stack.append(_Container(is_array=ch == "[", key=key))
            expecting_key = ch == "{"
        elif ch in "}]":
            if stack:
                stack.pop()
            expecting_key = False
        elif ch == "," and stack and not stack[-1].is_array:
            expecting_key = True
    if not stack or not stack[-1].is_array or escaped:
        return None
    top = stack[-1]
    if in_string:
        return ListCursor(top.key, "".join(buffer), tuple(top.strings))
    return ListCursor(top.key, None, tuple(top.strings)) if top.after_string else None


@functools.lru_cache(maxsize=4)
def _comma_closers(tokenizer: Any) -> dict[int, str]:
    """Token id -> its text before the quote, for tokens that close a string and go on to a comma ('",', 'pain",')."""
    out = {}
    for i, text in enumerate(token_texts(tokenizer)):
        head, quote, tail = text.partition('"')
        if quote and "," in tail and not head.endswith("\\"):
            out[i] = head
    return out


@functools.lru_cache(maxsize=4)
def _bracket_first_ids(tokenizer: Any) -> frozenset[int]:
    return frozenset(i for i, text in enumerate(token_texts(tokenizer)) if text.strip().startswith("]"))


def repeat_rule(cursor: ListCursor, tokenizer: Any) -> tuple[str, frozenset[int]] | None:
    """What a repeat allows next: ("ban", ids) while a string item is open and these closers would repeat an earlier
    item with a comma after it; ("only", ids) right after a repeated item, when only a bracket may come; None
    otherwise. Kept apart from any token container so the decoder can apply it to a mask."""
    if cursor.partial is not None:
        earlier = {same_item(s) for s in cursor.items}
        if not earlier:
            return None
        closers = _comma_closers(tokenizer)
        return "ban", frozenset(t for t, head in closers.items() if same_item(cursor.partial + head) in earlier)
    if cursor.repeats_last():
        return "only", _bracket_first_ids(tokenizer)
    return None


def end_lists_at_repeats(cursor: ListCursor, allowed: list[int], tokenizer: Any) -> list[int]:
    """The allowed tokens once a repeat must end its list: a repeat may close only without a comma ('"', '"]'), and
    after it only a bracket may come. Unchanged when that leaves nothing (the constraint always wins)."""
    rule = repeat_rule(cursor, tokenizer)
    if rule is None:
        return allowed
    kind, ids = rule
    kept = [t for t in allowed if (t in ids) == (kind == "only")]
    return kept or allowed
