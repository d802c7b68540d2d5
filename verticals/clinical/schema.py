"""The intake form the model fills, with normalisers shared by the importers (gold) and the parser (model output),
so "62-year-old" and 62, "128/72 mmHg" and "128/72", "Lisinopril" and "lisinopril" compare equal.

Every field may be null: null means "not stated / no reference", and such a field is not scored on that example.
List fields are sets (a repeated symptom or drug counts once; "none" is the empty list).
A user can replace the form with their own fields (see `user_schema`)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from core.errors import DataError

_number = re.compile(r"-?\d+(?:\.\d+)?")
_bp = re.compile(r"(\d{2,3})\s*/\s*(\d{2,3})")
_space = re.compile(r"\s+")


def first_number(value: Any) -> float | None:
    """The first finite number in a value (JSON allows Infinity/NaN; a form field never means them)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(value) else None
    match = _number.search(str(value).replace(",", ""))
    return float(match.group(0)) if match else None


def as_int(value: Any) -> int | None:
    number = first_number(value)
    return round(number) if number is not None else None


def as_float(value: Any) -> float | None:
    number = first_number(value)
    return round(number, 1) if number is not None else None


def blood_pressure(value: Any) -> str | None:
    if value is None:
        return None
    match = _bp.search(str(value))
    return f"{match.group(1)}/{match.group(2)}" if match else None


_WEIGHT_UNITS = {"lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "kg": "kg", "kilograms": "kg", "kgs": "kg"}


def weight(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).lower()
    number = first_number(text)
    if number is None:
        return None
    unit = next((u for word, u in _WEIGHT_UNITS.items() if re.search(rf"\b{word}\b", text)), "lb")
    return f"{number:g} {unit}"


def clean_text(value: Any) -> str | None:
    if value is None:
        return None
    text = _space.sub(" ", str(value)).strip().strip(".;,").strip()
    return text.lower() or None


def sex(value: Any) -> str | None:
    key = clean_text(value)
    if key in ("female", "f", "woman", "girl"):
        return "female"
    if key in ("male", "m", "man", "boy"):
        return "male"
    return None


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Medication(_Form):
    name: str
    dose: str | None = None
    frequency: str | None = None

    @field_validator("name", mode="before")
    @classmethod
    def _name(cls, v: Any) -> Any:
        return clean_text(v) or v

    @field_validator("dose", "frequency", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return clean_text(v)


class Vitals(_Form):
    blood_pressure: str | None = Field(None, description="systolic/diastolic, e.g. 128/72")
    heart_rate: int | None = Field(None, description="beats per minute")
    temperature: float | None = Field(None, description="as stated, e.g. 98.7")
    respiratory_rate: int | None = Field(None, description="breaths per minute")
    oxygen_saturation: int | None = Field(None, description="percent")
    weight: str | None = Field(None, description="number and unit, e.g. 169 lb")

    _bp = field_validator("blood_pressure", mode="before")(lambda cls, v: blood_pressure(v))
    _ints = field_validator("heart_rate", "respiratory_rate", "oxygen_saturation", mode="before")(
        lambda cls, v: as_int(v)
    )
    _temp = field_validator("temperature", mode="before")(lambda cls, v: as_float(v))
    _weight = field_validator("weight", mode="before")(lambda cls, v: weight(v))


NO_ITEM = frozenset({"none", "no", "n/a", "na", "nil", "nothing"})


def _text_list(v: Any) -> Any:
    """List fields of the form are sets: normalised, and a repeated item kept once (first place). A small model
    that loops on one symptom states it once on the form; gold lists are read the same way. An item that says
    there is nothing ("none", "n/a") is not an item: ["none"] is the empty list."""
    if v is None or not isinstance(v, list):
        return v
    cleaned = (clean_text(x) if isinstance(x, str) else x for x in v)
    items = [t for t in cleaned if t is not None and not (isinstance(t, str) and t in NO_ITEM)]
    return list(dict.fromkeys(items)) if all(isinstance(t, str) for t in items) else items


def _unique_drugs(v: list[Medication] | None) -> list[Medication] | None:
    """One entry per drug name (the first, which carries the dose/frequency the text states first)."""
    if v is None:
        return None
    seen: dict[str, Medication] = {}
    for med in v:
        seen.setdefault(med.name, med)
    return list(seen.values())


class IntakeForm(_Form):
    chief_complaint: str | None = None
    secondary_complaints: list[str] | None = None
    age: int | None = None
    sex: Literal["female", "male"] | None = None
    medications: list[Medication] | None = None
    allergies: list[str] | None = None
    vitals: Vitals | None = None
    symptoms: list[str] | None = None

    _cc = field_validator("chief_complaint", mode="before")(lambda cls, v: clean_text(v))
    _age = field_validator("age", mode="before")(lambda cls, v: as_int(v))
    _sex = field_validator("sex", mode="before")(lambda cls, v: sex(v) if v is not None else None)
    _lists = field_validator("secondary_complaints", "allergies", "symptoms", mode="before")(
        lambda cls, v: _text_list(v)
    )
    _drugs = field_validator("medications", mode="after")(lambda cls, v: _unique_drugs(v))


# -- user-defined forms ------------------------------------------------------------------------------------

_TYPES: dict[str, Any] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "list[string]": list[str],
    "list[integer]": list[int],
    "list[number]": list[float],
}


def user_schema(path: str | Path) -> type[BaseModel]:
    """A form from a YAML/JSON file: `fields: {name: type}` with types string, integer, number, boolean or
    list[...] of those. Every field is optional (null = not stated)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("schema file not found", file=str(path))
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise DataError(f"not valid YAML: {exc}", file=str(path)) from None
    fields = spec.get("fields") if isinstance(spec, dict) else None
    if not isinstance(fields, dict) or not fields:
        raise DataError("expected a mapping 'fields: {name: type}'", file=str(path), field="fields")
    definitions: dict[str, Any] = {}
    for name, type_name in fields.items():
        if not str(name).isidentifier():
            raise DataError("field names must be identifiers (letters, digits, _)", file=str(path), field=str(name))
        if type_name not in _TYPES:
            raise DataError(f"unknown type {type_name!r} (one of {', '.join(_TYPES)})", file=str(path), field=str(name))
        definitions[str(name)] = (_TYPES[type_name] | None, None)
    return create_model("UserForm", __base__=_Form, **definitions)
