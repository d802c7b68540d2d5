"""Finding the answer in what a model wrote: models wrap JSON in prose or code fences, so parsers look for the
first complete JSON object (nested objects included) rather than demanding the whole output be JSON."""

from __future__ import annotations

import json
from typing import Any

from core.errors import ParseError


def first_json_object(text: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    start = text.find("{")
    while start != -1:
        try:
            obj, _ = decoder.raw_decode(text[start:])
            if isinstance(obj, dict):
                return obj
        except json.JSONDecodeError:
            pass
        start = text.find("{", start + 1)
    raise ParseError("no JSON object in the output")


def has_json_object(text: str) -> bool:
    try:
        first_json_object(text)
    except ParseError:
        return False
    return True
