"""Clinical intake pack: a visit dialogue or note in, the intake form out as JSON. Inputs are PII-scrubbed before
training (redaction_fields); the form is scored field by field.

Reads ACI-Bench and MTS-Dialog CSVs directly, or the user's own JSONL/CSV with a text column and a JSON target
column (options text_column, target_column), optionally against the user's own form (option schema_file)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError

from core.constrained import bound_schema
from core.data import load_with, read_rows, require_text
from core.errors import ConfigError, DataError, ParseError
from core.pack import Example, LoadResult, Pack, PackOptions, TaskKind
from core.parsing import first_json_object
from verticals.clinical import importers
from verticals.clinical.drug_mentions import hint_line
from verticals.clinical.schema import IntakeForm, user_schema
from verticals.clinical.scoring import micro_counts, score_forms
from verticals.clinical.windows import merge_forms, split_windows, stable_fraction, window_forms

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_MAX_ITEMS, DEFAULT_MAX_CHARS = 12, 80  # decoding bounds before `fit` has seen training forms
DEFAULT_WINDOW_CHARS = 1600  # chosen on ACI-Bench valid against whole dialogues (bench/NOTES.md)

FIELD_GUIDE = """\
- chief_complaint: the main reason for the visit, a few words
- secondary_complaints: other problems discussed, list of short phrases
- age: years, number; sex: "female" or "male"
- medications: list of {"name", "dose", "frequency"} the patient takes (dose/frequency null when not said)
- allergies: list of allergens ([] when the patient has none)
- vitals: {"blood_pressure": "120/80", "heart_rate", "temperature", "respiratory_rate", "oxygen_saturation",
  "weight": "170 lb"}, null for values not measured
- symptoms: list of symptoms the patient reports
Use null for anything the text does not say."""


def _error_path(err: ValidationError) -> tuple[str, str]:
    first = err.errors()[0]
    return ".".join(str(p) for p in first["loc"]) or "target", first["msg"]


class ClinicalOptions(PackOptions):
    text_column: str = Field("text", description="Column with the visit dialogue or note.")
    target_column: str = Field("target", description="Column with the filled form (JSON object or JSON text).")
    schema_file: str | None = Field(None, description="Your own form: YAML `fields: {name: type}`.")
    source_field: Literal["dialogue", "note"] = Field("dialogue", description="ACI-Bench: which text is the input.")
    window_chars: int | None = Field(
        None,
        ge=0,
        description="Read inputs longer than this many characters window by window (overlapping runs of whole "
        "lines) and merge the partial forms; the adapter trains on windows too. 0 = the whole input at once. "
        f"Default: {DEFAULT_WINDOW_CHARS} with the built-in form (on ACI-Bench's valid split windows scored "
        "micro-F1 0.344 against 0.168 for whole dialogues, README), 0 with your own form (windows need the "
        "built-in form's placement rule). A run keeps the value it was trained with.",
    )
    window_overlap_chars: int = Field(300, ge=0, description="Characters of lines consecutive windows share.")
    empty_window_fraction: float = Field(
        0.34,
        ge=0.0,
        le=1.0,
        description="Share of training windows with nothing to extract that are kept (a deterministic selection): "
        "most windows state nothing, and a model trained on all of them learns to answer null.",
    )
    stated_values_only: bool = Field(
        False,
        description="Windowed training targets: a vital sign said in words ('one twenty eight over seventy two') "
        "counts as stated, and the age goes only to a window that states it (none when no window does). Measured "
        "on ACI-Bench's valid split: vitals were learnt, micro-F1 a tie slightly below the default (bench/NOTES.md).",
    )
    drug_hints: bool = Field(
        False,
        description="Append the drug names the text says (a drug dictionary's matches) to every prompt, for "
        "training and answering alike; the model still decides which ones the patient takes.",
    )


class ClinicalPack(Pack):
    """Visit dialogue or note -> the intake form, or the user's own form."""

    name = "clinical"
    kind = TaskKind.EXTRACT
    description = "Visit dialogue or note -> structured intake form (JSON), PII scrubbed before training"
    headline_metric = "micro_f1"
    redaction_fields: ClassVar[tuple[str, ...]] = ("text",)
    max_new_tokens = 256
    Options = ClinicalOptions

    def __init__(self, options: Any = None):
        super().__init__(options)
        self.form: type[BaseModel] = IntakeForm
        if self.options.schema_file:
            self.form = user_schema(self.options.schema_file)
        self.output_schema = self.form
        self.decoding_max_items, self.decoding_max_chars = DEFAULT_MAX_ITEMS, DEFAULT_MAX_CHARS
        given = self.options.window_chars
        self.window_chars = given if given is not None else (0 if self.custom_form else DEFAULT_WINDOW_CHARS)
        if given and self.custom_form:
            raise ConfigError(
                "window_chars works with the built-in intake form only (its placement rule is documented in "
                "verticals/clinical/windows.py); drop schema_file or window_chars"
            )
        self._source_of: dict[str, str] = {}

    @property
    def custom_form(self) -> bool:
        return self.form is not IntakeForm

    # -- data -------------------------------------------------------------------------------------------
    def sample_data_path(self) -> Path:
        return DATA_DIR / "clinical_sample.jsonl"

    def validate_form(self, value: Any) -> dict[str, Any]:
        """A target (dict or JSON text) -> normalised form; DataError naming the offending field."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise DataError(f"target is not valid JSON ({exc.msg})", field=self.target_column) from None
        if not isinstance(value, dict):
            raise DataError("target must be a JSON object", field=self.target_column)
        try:
            return self.form.model_validate(value).model_dump()
        except ValidationError as exc:
            where, msg = _error_path(exc)
            raise DataError(msg, field=f"{self.target_column}.{where}") from None

    @property
    def target_column(self) -> str:
        return self.options.target_column

    def _example(self, rec_id: str, text: str, form: dict[str, Any], group: str | None, split: Any) -> Example:
        return Example(
            id=rec_id,
            text=text,
            target=json.dumps(form, ensure_ascii=False),
            reference=form,
            group=group,
            split=split or None,
        )

    def row_to_examples(self, rec: dict[str, Any], row: int) -> list[Example]:
        text = require_text(rec, self.options.text_column)
        if self.target_column not in rec:
            raise DataError(f"missing (columns present: {', '.join(sorted(rec))})", field=self.target_column)
        form = self.validate_form(rec[self.target_column])
        group = rec.get("group") or rec.get("patient_id")
        if rec.get("source"):
            self._source_of[str(rec.get("id", row))] = str(rec["source"])
        return [self._example(str(rec.get("id", row)), text, form, str(group) if group else None, rec.get("split"))]

    def load(self, path: Path, *, skip_invalid: bool = False) -> LoadResult:
        path = Path(path)
        if path.suffix.lower() == ".csv":
            first = next(read_rows(path), None)
            columns = list(first[1]) if first else []
            if importers.is_aci(columns) or importers.is_mts(columns):
                if self.custom_form:
                    raise DataError(
                        "ACI-Bench / MTS-Dialog targets use the built-in form; drop schema_file", file=str(path)
                    )
                if importers.is_aci(columns):
                    records, result = importers.load_aci(path, self.options.source_field)
                else:
                    records, result = importers.load_mts(path)
                result.examples = [
                    self._example(
                        r["id"], r["text"], IntakeForm.model_validate(r["form"]).model_dump(), r["group"], None
                    )
                    for r in records
                ]
                return result
        return load_with(path, self.row_to_examples, skip_invalid=skip_invalid, parse=self.reference_from_target)

    def reference_from_target(self, text: str) -> dict[str, Any]:
        try:
            return self.validate_form(first_json_object(text))
        except DataError as exc:
            raise ParseError(exc.reason) from None

    def data_summary(self, splits: dict[str, Sequence[Example]]) -> dict[str, Any]:
        """How many examples have reference data for each field, per split (fields with none are not scored); per
        source when the file has a `source` column; and with windows, how the training forms were placed."""
        summary: dict[str, Any] = {}
        for name, part in splits.items():
            counts: dict[str, int] = {}
            sources: dict[str, dict[str, int]] = {}
            for ex in part:
                source = self._source_of.get(ex.id)
                for key, value in ex.reference.items():
                    if value is not None:
                        counts[key] = counts.get(key, 0) + 1
                        if source:
                            by_field = sources.setdefault(source, {"examples": 0})
                            by_field[key] = by_field.get(key, 0) + 1
                if source:
                    sources.setdefault(source, {"examples": 0})["examples"] += 1
            summary[f"fields_with_reference_{name}"] = counts
            if sources:
                summary[f"fields_with_reference_by_source_{name}"] = sources
        if self.window_chars and splits.get("train"):
            summary["training_windows"] = self.window_counts(splits["train"])
        return summary

    # -- windows --------------------------------------------------------------------------------------------
    def windows(self, text: str) -> list[str]:
        return split_windows(text, self.window_chars, self.options.window_overlap_chars)

    def merge_windows(self, outputs: Sequence[Any | None]) -> dict[str, Any]:
        return self.form.model_validate(merge_forms(outputs)).model_dump()

    def _window_examples(self, ex: Example) -> tuple[list[Example], dict[str, int]]:
        parts = self.windows(ex.text)
        if len(parts) == 1:
            return [ex], {}
        forms, counts = window_forms(parts, ex.reference, where_stated=self.options.stated_values_only)
        views, counts["empty_windows_left_out"] = [], 0
        for i, (part, form) in enumerate(zip(parts, forms, strict=True)):
            empty = i > 0 and all(v is None for v in form.values())
            if empty and stable_fraction(f"{ex.id}#{i}") >= self.options.empty_window_fraction:
                counts["empty_windows_left_out"] += 1
                continue
            views.append(Example(id=ex.id, text=part, target=self.format_answer(form), reference=form, group=ex.group))
        return views, counts

    def training_views(self, examples: Sequence[Example]) -> list[Example]:
        return [view for ex in examples for view in self._window_examples(ex)[0]]

    def window_counts(self, examples: Sequence[Example]) -> dict[str, int]:
        """Inputs split, windows made and where the reference values went (see verticals/clinical/windows.py)."""
        keys = ("examples_split", "windows", "values_placed", "values_not_in_text", "empty_windows_left_out")
        out = dict.fromkeys(keys, 0)
        out["examples"] = len(examples)
        for ex in examples:
            views, counts = self._window_examples(ex)
            out["windows"] += len(views)
            out["examples_split"] += int(bool(counts))  # an input kept whole has no placement counts
            for key, n in counts.items():
                out[key] += n
        return out

    # -- decoding bounds --------------------------------------------------------------------------------
    def fit(self, train: Sequence[Example]) -> None:
        """Size limits for constrained decoding, from the longest list and string in the training forms (x1.5):
        a small model that starts repeating a list item must close the list instead of running out of tokens."""
        items, chars = 0, 0

        def visit(value: Any) -> None:
            nonlocal items, chars
            if isinstance(value, list):
                items = max(items, len(value))
                for v in value:
                    visit(v)
            elif isinstance(value, dict):
                for v in value.values():
                    visit(v)
            elif isinstance(value, str):
                chars = max(chars, len(value))

        for ex in train:
            visit(ex.reference)
        self.decoding_max_items = max(DEFAULT_MAX_ITEMS // 2, round(items * 1.5))
        self.decoding_max_chars = max(DEFAULT_MAX_CHARS // 2, round(chars * 1.5))

    def state(self) -> dict[str, Any]:
        return {
            "decoding_max_items": self.decoding_max_items,
            "decoding_max_chars": self.decoding_max_chars,
            "window_chars": self.window_chars,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        if self.options.window_chars is None:  # the adapter answers as it was trained; runs before windows: whole
            self.window_chars = int(state.get("window_chars", 0))
        self.decoding_max_items = int(state.get("decoding_max_items", DEFAULT_MAX_ITEMS))
        self.decoding_max_chars = int(state.get("decoding_max_chars", DEFAULT_MAX_CHARS))

    def output_json_schema(self) -> dict[str, Any]:
        return bound_schema(
            self.form.model_json_schema(),
            max_items=self.decoding_max_items,
            max_chars=self.decoding_max_chars,
            unique_strings=True,  # the form keeps each list item once
        )

    # -- prompting --------------------------------------------------------------------------------------
    def system_prompt(self) -> str:
        if self.custom_form:
            fields = "\n".join(
                f"- {n}: {f.annotation}".replace("typing.", "") for n, f in self.form.model_fields.items()
            )
            return (
                "You fill in a clinical form from the text. Fields:\n"
                + fields
                + "\nUse null for anything the text does not say. Answer with one JSON object only."
            )
        keys = ", ".join(IntakeForm.model_fields)
        return (
            "You are a clinical intake assistant. Read the visit dialogue or note and fill in the intake form.\n"
            + FIELD_GUIDE
            + f"\nAnswer with one JSON object with exactly these keys: {keys}."
        )

    def compact_system_prompt(self) -> str:
        return "Fill in the intake form from the visit text. Answer with one JSON object."

    def user_message(self, text: str) -> str:
        if self.options.drug_hints:
            return f"Visit text:\n{text}\n\n{hint_line(text)}"
        return f"Visit text:\n{text}"

    # -- outputs ----------------------------------------------------------------------------------------
    def parse(self, text: str) -> dict[str, Any]:
        obj = first_json_object(text)
        try:
            return self.form.model_validate(obj).model_dump()
        except ValidationError as exc:
            where, msg = _error_path(exc)
            raise ParseError(f"does not fit the form at '{where}': {msg}") from None

    def metrics(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> dict[str, Any]:
        span_fields = [
            n for n, f in self.form.model_fields.items() if n not in ("age", "sex") and "str" in str(f.annotation)
        ]
        if not self.custom_form:
            span_fields.append("medications")
        return score_forms(predictions, references, inputs, span_fields)

    def headline_scorer(
        self, predictions: Sequence[Any | None], references: Sequence[Any], inputs: Sequence[str] | None = None
    ) -> Any:
        from core.stats import ratio_scorer

        return ratio_scorer(*micro_counts(list(predictions), list(references)))

    def demo_examples(self) -> list[str]:
        return [
            "[doctor] hi mr. james allen, how are you today? [patient] not great, my lower back has been killing me "
            "for two weeks. [doctor] i see you're 57. are you still taking the lisinopril 20 mg daily? [patient] "
            "yes, every morning. and metformin 500 mg twice a day. [doctor] any allergies? [patient] penicillin. "
            "[doctor] your blood pressure today is 142/88 and your heart rate is 78.",
            "Patient is a 34-year-old female presenting with a sore throat and fever for three days. Denies cough. "
            "Takes ibuprofen 400 mg as needed. No known drug allergies. Temperature 100.9 F, pulse 96, "
            "oxygen saturation 98%.",
        ]

    def display(self, output: Any) -> str:
        return json.dumps(output, indent=2, ensure_ascii=False)
