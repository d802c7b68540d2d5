"""Reusable pack bases built on core's contract. ClassificationPack: text in, {"label": ...} out."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

import yaml
from pydantic import BaseModel, Field, field_validator

from core import metrics
from core.data import require_text
from core.errors import DataError, ParseError
from core.pack import Example, Pack, PackOptions, TaskKind
from core.parsing import first_json_object

_ws = re.compile(r"[\s_\-]+")


def label_key(text: str) -> str:
    """Case-, whitespace-, hyphen- and underscore-insensitive key for matching labels."""
    return _ws.sub(" ", text).strip().strip(".\"'").lower()


def read_label_file(path: str | Path) -> dict[str, str]:
    """Labels with optional one-line definitions: YAML/JSON mapping, or CSV/TXT with `label[,definition]`."""
    path = Path(path)
    if not path.is_file():
        raise DataError("label file not found", file=str(path))
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        data = yaml.safe_load(text)
        if isinstance(data, list):
            return {str(x): "" for x in data}
        if isinstance(data, dict):
            return {str(k): str(v or "") for k, v in data.items()}
        raise DataError("expected a list of labels or a mapping label -> definition", file=str(path))
    rows = [r for r in csv.reader(text.splitlines()) if r and r[0].strip()]
    if rows and [c.strip().lower() for c in rows[0][:2]] in (["label", "definition"], ["label"]):
        rows = rows[1:]
    return {r[0].strip(): (r[1].strip() if len(r) > 1 else "") for r in rows}


class LabelOutput(BaseModel):
    label: str


class ClassificationOptions(PackOptions):
    text_column: str = Field("text", description="Column with the text to classify.")
    label_column: str = Field("label", description="Column with the label (or labels, with multi_label).")
    group_column: str | None = Field(
        None, description="Rows sharing this column's value stay in one split (e.g. one contract)."
    )
    id_column: str = Field("id", description="Column with a row id (default: the row number).")
    labels_file: str | None = Field(
        None, description="Label set with one-line definitions: YAML/JSON mapping, or CSV `label,definition`."
    )
    synonyms: dict[str, str] = Field(default_factory=dict, description="Alternative name -> label, for parsing.")
    balance: Literal["none", "oversample", "undersample"] = Field(
        "none", description="Class-balanced sampling of the training split (counted in the data report)."
    )
    multi_label: bool = Field(False, description='Several labels per text: output {"labels": [...]}.')
    label_separator: str = Field(";", description="Separator of several labels in one text cell (multi_label).")

    @field_validator("balance", mode="before")
    @classmethod
    def _no_balance(cls, v: Any) -> Any:
        return "none" if v in (None, False) else v


class ClassificationPack(Pack):
    """Single-label text classification with a label set learned from the training split or given in a file
    (multi-label with the option multi_label)."""

    kind = TaskKind.CLASSIFY
    headline_metric = "macro_f1"
    output_schema = LabelOutput
    max_new_tokens = 24
    Options = ClassificationOptions
    task_description: ClassVar[str] = "Classify the text"
    default_synonyms: ClassVar[dict[str, str]] = {}

    def __init__(self, options: Any = None):
        super().__init__(options)
        self.multi_label = self.options.multi_label
        self.definitions: dict[str, str] = {}
        self.synonyms: dict[str, str] = dict(self.default_synonyms)
        self.synonyms.update(self.options.synonyms)
        self.fixed_label_set = bool(self.options.labels_file)
        if self.fixed_label_set:
            self.definitions = read_label_file(self.options.labels_file)

    @property
    def labels(self) -> list[str]:
        return list(self.definitions)

    # -- data -------------------------------------------------------------------------------------------
    def row_to_examples(self, rec: dict[str, Any], row: int) -> list[Example]:
        text = require_text(rec, self.options.text_column)
        label = self._label_value(rec)
        if self.fixed_label_set:
            outside = [lab for lab in self._reference_labels(label) if lab not in self.definitions]
            if outside:
                raise DataError(
                    f"label {outside[0]!r} is not in the label file (known: {', '.join(self.labels)})",
                    field=self.options.label_column,
                )
        group_col = self.options.group_column
        group = str(rec[group_col]) if group_col and rec.get(group_col) not in (None, "") else None
        ex_id = str(rec.get(self.options.id_column, row))
        return [
            Example(
                id=ex_id,
                text=text,
                target=self.target(label),
                reference=label,
                group=group,
                split=rec.get("split") or None,
            )
        ]

    def _label_value(self, rec: dict[str, Any]) -> str | list[str]:
        column = self.options.label_column
        if not self.multi_label:
            return require_text(rec, column).strip()
        value = rec.get(column)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            labels = value
        else:
            sep = self.options.label_separator
            labels = require_text(rec, column).split(sep)
        labels = sorted({v.strip() for v in labels if v.strip()})
        if not labels:
            raise DataError("no label", field=column)
        return labels

    def _reference_labels(self, reference: Any) -> list[str]:
        return list(reference) if isinstance(reference, (list, tuple)) else [str(reference)]

    def reference_from_target(self, text: str) -> str | list[str]:
        obj = first_json_object(text)
        if self.multi_label:
            labels = obj.get("labels")
            if not isinstance(labels, list) or not all(isinstance(v, str) for v in labels):
                raise ParseError('expected {"labels": ["...", ...]}')
            return sorted(set(labels))
        if not isinstance(obj.get("label"), str):
            raise ParseError('expected {"label": "..."}')
        return obj["label"]

    def fit(self, train: Sequence[Example]) -> None:
        if not self.definitions:
            seen = {lab for e in train for lab in self._reference_labels(e.reference)}
            self.definitions = {lab: "" for lab in sorted(seen)}

    def state(self) -> dict[str, Any]:
        return {"definitions": self.definitions, "synonyms": self.synonyms, "multi_label": self.multi_label}

    def load_state(self, state: dict[str, Any]) -> None:
        self.definitions = dict(state.get("definitions", {}))
        self.synonyms = dict(state.get("synonyms", {}))
        self.multi_label = bool(state.get("multi_label", False))

    def resample_train(self, train: Sequence[Example], seed: int) -> tuple[list[Example], dict[str, Any]]:
        """Option balance: 'oversample' repeats minority-class examples up to the largest class; 'undersample'
        keeps at most the smallest class's count per class. Both seeded; counts go to the data report."""
        mode = self.options.balance
        if mode == "none":
            return list(train), {}
        import random

        rng = random.Random(seed)
        by_class: dict[str, list[Example]] = {}
        for ex in train:
            by_class.setdefault(str(ex.reference), []).append(ex)
        sizes = [len(v) for v in by_class.values()]
        target = max(sizes) if mode == "oversample" else min(sizes)
        out: list[Example] = []
        for items in by_class.values():
            if len(items) >= target:
                out.extend(rng.sample(items, target))
            else:
                out.extend(items + [rng.choice(items) for _ in range(target - len(items))])
        rng.shuffle(out)
        return out, {"balance": mode, "train_before_balance": len(train), "train_after_balance": len(out)}

    def data_summary(self, splits: dict[str, Sequence[Example]]) -> dict[str, Any]:
        known = set(self.labels)
        summary: dict[str, Any] = {"labels": self.labels}
        for name, part in splits.items():
            counts = Counter(lab for e in part for lab in self._reference_labels(e.reference))
            summary[f"class_counts_{name}"] = dict(counts.most_common())
        unseen = {
            name: sorted({lab for e in part for lab in self._reference_labels(e.reference)} - known)
            for name, part in splits.items()
        }
        summary["labels_not_in_label_set"] = {k: v for k, v in unseen.items() if v}
        counts = Counter(lab for e in splits.get("train", []) for lab in self._reference_labels(e.reference))
        if counts:
            summary["imbalance_ratio"] = round(max(counts.values()) / min(counts.values()), 2)
        return summary

    # -- prompting --------------------------------------------------------------------------------------
    def target(self, label: str | list[str]) -> str:
        if self.multi_label:
            return json.dumps({"labels": self._reference_labels(label)}, ensure_ascii=False)
        return json.dumps({"label": label}, ensure_ascii=False)

    def system_prompt(self) -> str:
        lines = [f"- {lab}: {d}" if d else f"- {lab}" for lab, d in self.definitions.items()]
        if self.multi_label:
            return (
                f"{self.task_description}. Choose every label that applies from this list:\n"
                + "\n".join(lines)
                + '\nAnswer with JSON only: {"labels": ["<label>", ...]}'
            )
        return (
            f"{self.task_description}. Choose exactly one label from this list:\n"
            + "\n".join(lines)
            + '\nAnswer with JSON only: {"label": "<label>"}'
        )

    def compact_system_prompt(self) -> str:
        """The task, the label names and the answer format, without the definitions (an adapter learns what the
        labels mean; their names keep it from having to learn the vocabulary too)."""
        fmt = '{"labels": ["<label>", ...]}' if self.multi_label else '{"label": "<label>"}'
        return f"{self.task_description}. Labels: {'; '.join(self.labels)}. Answer with JSON only: {fmt}"

    def minimal_system_prompt(self) -> str:
        """The task and the answer format, no label list (134 -> ~75 tokens per legal clause): the adapter learns
        the label names from its training answers; constrained decoding and label scoring still take them from the
        label set, so an answer outside it cannot be produced there."""
        fmt = '{"labels": ["<label>", ...]}' if self.multi_label else '{"label": "<label>"}'
        return f"{self.task_description}. Answer with JSON only: {fmt}"

    # -- outputs ----------------------------------------------------------------------------------------
    def normalise_label(self, raw: str) -> str:
        by_key = {label_key(lab): lab for lab in self.labels}
        by_key.update({label_key(k): v for k, v in self.synonyms.items() if v in self.definitions})
        hit = by_key.get(label_key(raw))
        if hit is None:
            raise ParseError(f"label {raw!r} is not in the label set")
        return hit

    def parse(self, text: str) -> str | list[str]:
        if self.multi_label:
            obj = first_json_object(text)
            values = obj.get("labels", [obj["label"]] if isinstance(obj.get("label"), str) else None)
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ParseError('JSON has no list of strings "labels"')
            return sorted({self.normalise_label(v) for v in values})
        try:
            obj = first_json_object(text)
        except ParseError:
            return self.normalise_label(text)  # a bare label as the whole output is accepted, nothing looser
        value = obj.get("label")
        if not isinstance(value, str):
            raise ParseError("JSON has no string field 'label'")
        return self.normalise_label(value)

    def metrics(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> dict[str, Any]:
        if self.multi_label:
            out = metrics.multilabel_classification(predictions, references, self.labels)
            out["parse_rate"] = metrics.parse_rate(predictions)
            return out
        out = metrics.classification(predictions, [str(r) for r in references], self.labels)
        out["parse_rate"] = metrics.parse_rate(predictions)
        return out

    def format_answer(self, reference: Any) -> str:
        return self.target(reference)

    def headline_scorer(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> Any:
        if self.multi_label:
            return super().headline_scorer(predictions, references, inputs)
        from core.stats import macro_f1_scorer

        return macro_f1_scorer(list(predictions), [str(r) for r in references], self.labels)

    def allowed_outputs(self) -> list[str] | None:
        return None if self.multi_label else [self.target(lab) for lab in self.labels]

    def output_json_schema(self) -> dict[str, Any]:
        if self.multi_label:
            items = {"type": "string", "enum": self.labels}
            return {
                "type": "object",
                "properties": {"labels": {"type": "array", "items": items, "maxItems": len(self.labels)}},
                "required": ["labels"],
                "additionalProperties": False,
            }
        return {
            "type": "object",
            "properties": {"label": {"type": "string", "enum": self.labels}},
            "required": ["label"],
            "additionalProperties": False,
        }
