"""Metrics shared by all packs. Every function takes parsed predictions where None means the output did not
parse: it counts as wrong, never as skipped."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

INVALID = "<invalid>"


def parse_rate(predictions: Sequence[Any | None]) -> float:
    return sum(p is not None for p in predictions) / len(predictions) if predictions else 0.0


def classification(
    predictions: Sequence[str | None], references: Sequence[str], labels: Sequence[str]
) -> dict[str, Any]:
    """Accuracy, macro-F1 over the label set, per-class precision/recall/F1/support and a confusion matrix
    with an extra column for unparseable or out-of-set outputs."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    labels = list(labels)
    preds = [p if p in labels else INVALID for p in predictions]
    refs = list(references)
    n = len(refs)
    accuracy = sum(p == r for p, r in zip(preds, refs, strict=True)) / n if n else 0.0
    present = [lab for lab in labels if lab in set(refs) | set(preds)]
    p, r, f, s = precision_recall_fscore_support(refs, preds, labels=present, zero_division=0)
    macro_f1 = float(f.mean()) if len(present) else 0.0
    per_class = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
        for i, lab in enumerate(present)
    }
    matrix_labels = [*labels, INVALID]
    cm = confusion_matrix(refs, preds, labels=matrix_labels) if n else []
    return {
        "accuracy": accuracy,
        "macro_f1": macro_f1,
        "invalid_rate": preds.count(INVALID) / n if n else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"labels": matrix_labels, "matrix": [list(map(int, row)) for row in cm]},
        "n": n,
    }


def multilabel_classification(
    predictions: Sequence[Sequence[str] | None], references: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Several labels per example: exact-match (subset) accuracy, macro- and micro-F1 and per-class scores over
    the label set. An unparseable prediction is the empty set (every reference label missed)."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    labels = list(labels)
    mlb = MultiLabelBinarizer(classes=labels)
    known = set(labels)
    y_true = mlb.fit_transform([[x for x in r if x in known] for r in references])
    y_pred = mlb.transform([[x for x in (p or []) if x in known] for p in predictions])
    n = len(references)
    exact = sum(sorted(p or []) == sorted(r) for p, r in zip(predictions, references, strict=True)) / n if n else 0.0
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    return {
        "accuracy": exact,
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)) if n else 0.0,
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)) if n else 0.0,
        "per_class": {
            lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, lab in enumerate(labels)
        },
        "n": n,
    }


_space = re.compile(r"\s+")


def normalise_scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _space.sub(" ", str(value)).strip().lower().rstrip(".")


def _as_items(value: Any, normalise: Callable[[Any], str]) -> Counter:
    if value is None or value == [] or value == "":
        return Counter()
    if isinstance(value, (list, tuple)):
        return Counter(normalise(v) for v in value if normalise(v) != "")
    if isinstance(value, dict):
        return Counter(f"{k}={normalise(v)}" for k, v in value.items() if v not in (None, "", []))
    return Counter([normalise(value)]) if normalise(value) else Counter()


def field_counts(
    pred: dict[str, Any] | None,
    ref: dict[str, Any],
    fields: Sequence[str],
    normalise: Callable[[Any], str] = normalise_scalar,
    *,
    skip_unknown_reference: bool = False,
) -> dict[str, tuple[int, int, int]]:
    """(true positives, false positives, false negatives) per scored field of one example. List fields are
    normalised multisets, scalars normalised exact matches; an empty reference and an empty prediction agree. A
    missing prediction (None) contributes false negatives for all its reference items. With skip_unknown_reference,
    a field whose reference is None (no gold for it in this example) is not scored: it is left out."""
    out: dict[str, tuple[int, int, int]] = {}
    for f in fields:
        if skip_unknown_reference and ref.get(f) is None:
            continue
        gold = _as_items(ref.get(f), normalise)
        got = _as_items(pred.get(f), normalise) if isinstance(pred, dict) else Counter()
        tp = sum((gold & got).values())
        out[f] = (tp, sum(got.values()) - tp, sum(gold.values()) - tp)
    return out


def field_f1(
    predictions: Sequence[dict[str, Any] | None],
    references: Sequence[dict[str, Any]],
    fields: Sequence[str],
    normalise: Callable[[Any], str] = normalise_scalar,
    *,
    skip_unknown_reference: bool = False,
) -> dict[str, Any]:
    """Field-level precision/recall/F1 summed over examples (see field_counts), per field and micro-averaged."""
    totals = {f: [0, 0, 0] for f in fields}  # tp, fp, fn
    scored = dict.fromkeys(fields, 0)
    for pred, ref in zip(predictions, references, strict=True):
        for f, counts in field_counts(
            pred, ref, fields, normalise, skip_unknown_reference=skip_unknown_reference
        ).items():
            scored[f] += 1
            for i in range(3):
                totals[f][i] += counts[i]

    def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "support": tp + fn}

    per_field = {f: {**prf(*totals[f]), "examples_scored": scored[f]} for f in fields}
    tp, fp, fn = (sum(t[i] for t in totals.values()) for i in range(3))
    return {"micro": prf(tp, fp, fn), "per_field": per_field}


def json_valid_rate(texts: Sequence[str]) -> float:
    """Share of raw outputs whose outermost JSON object is complete (before any schema check)."""
    from core.parsing import has_json_object

    return sum(has_json_object(t) for t in texts) / len(texts) if texts else 0.0


_word = re.compile(r"\w+(?:[.'/%-]\w+)*%?")


def words(text: str) -> list[str]:
    return [w.lower() for w in _word.findall(text)]


def bio_tags(text: str, values: dict[str, Sequence[str]]) -> tuple[list[str], int, int]:
    """Tag the words of `text` with B-/I-<type> where a value's words occur (first free occurrence). Returns the
    tags, how many values were located and how many were given: values not in the text cannot be spans."""
    tokens = words(text)
    tags = ["O"] * len(tokens)
    located = given = 0
    for kind, items in values.items():
        for item in items:
            target = words(str(item))
            if not target:
                continue
            given += 1
            n = len(target)
            for i in range(len(tokens) - n + 1):
                if tokens[i : i + n] == target and all(t == "O" for t in tags[i : i + n]):
                    tags[i] = f"B-{kind}"
                    tags[i + 1 : i + n] = [f"I-{kind}"] * (n - 1)
                    located += 1
                    break
    return tags, located, given


def rouge(predictions: Sequence[str | None], references: Sequence[str]) -> dict[str, float]:
    """Mean ROUGE-1/2/L F-measure (rouge-score, stemmed). An unparseable output scores 0."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    sums = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for pred, ref in zip(predictions, references, strict=True):
        if not pred:
            continue
        scores = scorer.score(ref, pred)
        for k in sums:
            sums[k] += scores[k].fmeasure
    n = len(references)
    return {k: v / n if n else 0.0 for k, v in sums.items()}


def span_f1(predicted_tags: Sequence[Sequence[str]], reference_tags: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Entity-level F1 on BIO tag sequences (seqeval, strict span match)."""
    from seqeval.metrics import classification_report, f1_score, precision_score, recall_score

    return {
        "precision": float(precision_score(reference_tags, predicted_tags, zero_division=0)),
        "recall": float(recall_score(reference_tags, predicted_tags, zero_division=0)),
        "f1": float(f1_score(reference_tags, predicted_tags, zero_division=0)),
        "per_type": {
            k: {m: float(v) for m, v in d.items()}
            for k, d in classification_report(reference_tags, predicted_tags, output_dict=True, zero_division=0).items()
        },
    }
