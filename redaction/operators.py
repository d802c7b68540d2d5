"""What replaces a detected span: a tag, a per-record numbered tag, a mask, a salted hash, or a realistic surrogate
that stays the same for the same original value across the whole dataset (so training text stays natural)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from typing import Literal

from redaction import entities as E
from redaction.engine import Span

Operator = Literal["surrogate", "tag", "instance", "mask", "hash"]
OPERATORS: tuple[str, ...] = ("surrogate", "tag", "instance", "mask", "hash")


def _norm(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip().lower()


class Surrogates:
    """Consistent fake values: the Faker instance is seeded from a keyed hash of (label, original), so the same
    original always maps to the same surrogate within one key, and the mapping is never stored."""

    def __init__(self, key: str | None = None, locale: str = "en_US"):
        from faker import Faker

        self.key = key or secrets.token_hex(16)
        self.faker = Faker(locale)
        self.cache: dict[tuple[str, str], str] = {}

    def _make(self, label: str, original: str) -> str:
        f = self.faker
        if label == E.PERSON:
            parts = original.split()
            if len(parts) == 1:
                return f.last_name() if original[:1].isupper() and len(original) > 2 else f.first_name()
            return f.name()
        if label == E.DATE:
            d = f.date_between(start_date="-80y", end_date="today")
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", original):
                return d.strftime("%Y-%m-%d")
            if re.search(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", original):
                return d.strftime("%m/%d/%Y")
            if re.search(r"\d{4}", original):
                return d.strftime("%B %d, %Y").replace(" 0", " ")
            return d.strftime("%B %d").replace(" 0", " ")
        generators: dict[str, Callable[[], str]] = {
            E.PHONE: lambda: f.numerify("555-###-####"),
            E.EMAIL: f.safe_email,
            E.MRN: lambda: f.numerify("########"),
            E.ADDRESS: f.street_address,
            E.ZIP: f.zipcode,
            E.LOCATION: f.city,
            E.ID: lambda: f.bothify("???########").upper(),
            E.ACCOUNT: lambda: f.numerify("##########"),
            E.SSN: f.ssn,
            E.AGE: lambda: "90",
            E.URL: f.url,
            E.IP: f.ipv4_private,
        }
        return generators.get(label, lambda: f"<{label}>")()

    def __call__(self, label: str, original: str) -> str:
        cache_key = (label, _norm(original))
        if cache_key not in self.cache:
            digest = hashlib.sha256(f"{self.key}|{label}|{cache_key[1]}".encode()).digest()
            self.faker.seed_instance(int.from_bytes(digest[:8], "big"))
            value = self._make(label, original)
            if _norm(value) == cache_key[1]:  # never "replace" a value with itself
                value = self._make(label, original + "#")
            self.cache[cache_key] = value
        return self.cache[cache_key]


class Replacer:
    """Applies one operator to the spans of a text. `hash` uses a secret salt so values cannot be looked up."""

    def __init__(self, operator: Operator = "surrogate", key: str | None = None):
        if operator not in OPERATORS:
            raise ValueError(f"unknown operator {operator!r} (one of {', '.join(OPERATORS)})")
        self.operator = operator
        self.key = key or secrets.token_hex(16)
        self.surrogates = Surrogates(self.key) if operator == "surrogate" else None

    def replace(self, text: str, spans: Sequence[Span]) -> str:
        instances: dict[tuple[str, str], int] = {}
        counters: dict[str, int] = {}
        pieces: list[str] = []
        cursor = 0
        for span in sorted(spans, key=lambda s: s.start):
            original = text[span.start : span.end]
            pieces.append(text[cursor : span.start])
            pieces.append(self._one(span.label, original, instances, counters))
            cursor = span.end
        pieces.append(text[cursor:])
        return "".join(pieces)

    def _one(self, label: str, original: str, instances: dict, counters: dict) -> str:
        if self.operator == "tag":
            return f"<{label}>"
        if self.operator == "instance":
            key = (label, _norm(original))
            if key not in instances:
                counters[label] = counters.get(label, 0) + 1
                instances[key] = counters[label]
            return f"<{label}_{instances[key]}>"
        if self.operator == "mask":
            return "*" * len(original)
        if self.operator == "hash":
            return f"<{label}:{hashlib.sha256(f'{self.key}|{_norm(original)}'.encode()).hexdigest()[:12]}>"
        assert self.surrogates is not None
        return self.surrogates(label, original)
