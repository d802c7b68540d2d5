"""Field-by-field scoring of intake forms: the form is flattened to scored fields (vitals.heart_rate, medication
names, doses of the named drugs...), fields without a reference are left out per example, and string values
found in the source text are also scored as spans (seqeval)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core import metrics
from verticals.clinical.schema import Vitals


def _names(meds: list[dict[str, Any]] | None) -> list[str] | None:
    return None if meds is None else [m["name"] for m in meds]


def _attribute_pairs(
    pred: list[dict[str, Any]] | None, gold: list[dict[str, Any]] | None, attribute: str
) -> tuple[list[str] | None, list[str]]:
    """Gold: 'name|value' for drugs whose `attribute` is stated; prediction: the same pairs for those drugs only,
    so a dose the note does not state is neither rewarded nor punished."""
    if gold is None:
        return None, []
    stated = {m["name"]: m[attribute] for m in gold if m.get(attribute)}
    if not stated:
        return None, []
    gold_pairs = [f"{n}|{v}" for n, v in stated.items()]
    pred_pairs = [f"{m['name']}|{m.get(attribute)}" for m in pred or [] if m.get("name") in stated]
    return gold_pairs, pred_pairs


def flatten(form: dict[str, Any], gold: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scored fields of one form. With `gold` given, dose/frequency pairs are restricted to the gold's drugs."""
    out: dict[str, Any] = {}
    for key, value in form.items():
        if key == "vitals":
            for sub in Vitals.model_fields:
                out[f"vitals.{sub}"] = (value or {}).get(sub)
        elif key == "medications" and (value is None or (isinstance(value, list) and _is_med_list(value))):
            out["medications"] = _names(value)
            for attribute in ("dose", "frequency"):
                if gold is None:
                    pairs, _ = _attribute_pairs(value, value, attribute)
                    out[f"medications.{attribute}"] = pairs
                else:
                    _, pred_pairs = _attribute_pairs(value, gold.get("medications"), attribute)
                    out[f"medications.{attribute}"] = pred_pairs
        else:
            out[key] = value
    return out


def _is_med_list(value: list[Any]) -> bool:
    return all(isinstance(m, dict) and "name" in m for m in value)


def _flat_pairs(
    predictions: Sequence[dict[str, Any] | None], references: Sequence[dict[str, Any]]
) -> tuple[list[dict[str, Any] | None], list[dict[str, Any]], list[str]]:
    refs = [flatten(r) for r in references]
    preds = [flatten(p, r) if p is not None else None for p, r in zip(predictions, references, strict=True)]
    fields = sorted({k for r in refs for k in r})
    return preds, refs, fields


def micro_counts(
    predictions: Sequence[dict[str, Any] | None], references: Sequence[dict[str, Any]]
) -> tuple[list[int], list[int], list[int]]:
    """Per-example (tp, fp, fn) summed over the scored fields: micro-F1 of any subset is a ratio of their sums."""
    preds, refs, fields = _flat_pairs(predictions, references)
    tps, fps, fns = [], [], []
    for p, r in zip(preds, refs, strict=True):
        counts = metrics.field_counts(p, r, fields, skip_unknown_reference=True).values()
        tps.append(sum(c[0] for c in counts))
        fps.append(sum(c[1] for c in counts))
        fns.append(sum(c[2] for c in counts))
    return tps, fps, fns


def score_forms(
    predictions: Sequence[dict[str, Any] | None],
    references: Sequence[dict[str, Any]],
    inputs: Sequence[str] | None,
    span_fields: Sequence[str],
) -> dict[str, Any]:
    preds, refs, fields = _flat_pairs(predictions, references)
    f1 = metrics.field_f1(preds, refs, fields, skip_unknown_reference=True)
    scalar_fields = [f for f in fields if not any(isinstance(r.get(f), list) for r in refs)]
    exact: dict[str, float] = {}
    for f in scalar_fields:
        pairs = [(p, r) for p, r in zip(preds, refs, strict=True) if r.get(f) is not None]
        if pairs:
            exact[f] = sum(
                p is not None and metrics.normalise_scalar(p.get(f)) == metrics.normalise_scalar(r[f]) for p, r in pairs
            ) / len(pairs)
    out: dict[str, Any] = {
        "micro_f1": f1["micro"]["f1"],
        "micro_precision": f1["micro"]["precision"],
        "micro_recall": f1["micro"]["recall"],
        "per_field": f1["per_field"],
        "scalar_exact_match": exact,
        "fields_without_reference": [f for f in fields if f1["per_field"][f]["examples_scored"] == 0],
        "parse_rate": metrics.parse_rate(predictions),
        "schema_valid_rate": metrics.parse_rate(predictions),
        "n": len(references),
    }
    if inputs is not None:
        out["span"] = _span_scores(predictions, references, inputs, span_fields)
    return out


def _span_values(form: dict[str, Any] | None, span_fields: Sequence[str]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for f in span_fields:
        v = (form or {}).get(f)
        if f == "medications" and isinstance(v, list):
            v = [m["name"] for m in v if isinstance(m, dict) and m.get("name")]
        if isinstance(v, str):
            v = [v]
        if isinstance(v, list):
            values[f.upper()] = [x for x in v if isinstance(x, str)]
    return values


def _span_scores(
    predictions: Sequence[dict[str, Any] | None],
    references: Sequence[dict[str, Any]],
    inputs: Sequence[str],
    span_fields: Sequence[str],
) -> dict[str, Any]:
    gold_tags, pred_tags = [], []
    located = given = 0
    for pred, ref, text in zip(predictions, references, inputs, strict=True):
        g, loc, n = metrics.bio_tags(text, _span_values(ref, span_fields))
        p, _, _ = metrics.bio_tags(text, _span_values(pred, span_fields))
        gold_tags.append(g)
        pred_tags.append(p)
        located, given = located + loc, given + n
    if not located:
        return {"f1": None, "gold_values_located": 0, "gold_values": given}
    scores = metrics.span_f1(pred_tags, gold_tags)
    return {
        "precision": scores["precision"],
        "recall": scores["recall"],
        "f1": scores["f1"],
        "gold_values_located": located,
        "gold_values": given,
    }
