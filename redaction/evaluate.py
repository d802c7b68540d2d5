"""Span-level evaluation of PII detection, per entity type and overall: precision, recall, F1 and recall-weighted
F2. A gold span counts as found when at least half of its characters are covered by detected spans of any label
(what matters for privacy is that it was removed); a detected span counts as correct when at least half of it lies
on gold PII. Reads this project's gold format and presidio-research's."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from core.errors import DataError
from redaction import entities as E
from redaction.engine import Span

COVER = 0.5


def read_gold(path: str | Path) -> list[tuple[str, list[Span]]]:
    """{text, spans: [{start, end, label}]} per line/item, or presidio-research's {full_text, spans: [{entity_type,
    start_position, end_position}]}. Labels we do not scrub (ORGANIZATION, TITLE) are left out."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    try:
        items = json.loads(raw)
        if isinstance(items, dict):
            items = [items]
    except json.JSONDecodeError:
        items = []
        for i, line in enumerate(raw.splitlines(), start=1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataError(f"not valid JSON ({exc.msg})", file=str(path), row=i) from None
    out = []
    for i, item in enumerate(items, start=1):
        text = item.get("text", item.get("full_text"))
        if not isinstance(text, str):
            raise DataError("needs a text (or full_text) string", file=str(path), row=i, field="text")
        spans = []
        for s in item.get("spans", []):
            label = E.canonical(s.get("label", s.get("entity_type", "")))
            start, end = s.get("start", s.get("start_position")), s.get("end", s.get("end_position"))
            if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
                raise DataError(f"bad span offsets {start}..{end}", file=str(path), row=i, field="spans")
            if label is not None:
                spans.append(Span(start, end, label))
        out.append((text, spans))
    return out


def _covered(span: Span, others: Sequence[Span]) -> float:
    chars = set()
    for o in others:
        lo, hi = max(span.start, o.start), min(span.end, o.end)
        chars.update(range(lo, hi))
    return len(chars) / max(span.end - span.start, 1)


def _f(p: float, r: float, beta: float) -> float:
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


def score(gold: Iterable[Sequence[Span]], predicted: Iterable[Sequence[Span]]) -> dict[str, Any]:
    found, support, correct, detected = Counter(), Counter(), Counter(), Counter()
    missed_examples: Counter = Counter()
    for g, p in zip(gold, predicted, strict=True):
        for s in g:
            support[s.label] += 1
            if _covered(s, p) >= COVER:
                found[s.label] += 1
            else:
                missed_examples[s.label] += 1
        for s in p:
            detected[s.label] += 1
            if _covered(s, g) >= COVER:
                correct[s.label] += 1

    def block(tp_r: int, n_gold: int, tp_p: int, n_pred: int) -> dict[str, float | int]:
        r = tp_r / n_gold if n_gold else 0.0
        p = tp_p / n_pred if n_pred else 0.0
        return {
            "precision": p,
            "recall": r,
            "f1": _f(p, r, 1),
            "f2": _f(p, r, 2),
            "support": n_gold,
            "detected": n_pred,
        }

    labels = sorted(set(support) | set(detected))
    per = {lab: block(found[lab], support[lab], correct[lab], detected[lab]) for lab in labels}
    overall = block(sum(found.values()), sum(support.values()), sum(correct.values()), sum(detected.values()))
    direct = [lab for lab in support if lab in E.DIRECT]
    direct_block = block(
        sum(found[lab] for lab in direct),
        sum(support[lab] for lab in direct),
        sum(correct.values()),
        sum(detected.values()),
    )
    return {"overall": overall, "direct_identifiers": direct_block, "per_entity": per}


_TOKEN = re.compile(r"\w+", re.UNICODE)
MIN_LEAK_CHARS = 3  # shorter values (an initial, "92") are found verbatim by chance: not counted as leaks


def token_recall(
    texts: Sequence[str], gold: Sequence[Sequence[Span]], replaced: Sequence[Sequence[Span]]
) -> dict[str, dict[str, float | int]]:
    """Share of the word tokens inside gold identifier spans that the scrubber replaced entirely, per entity and
    for all direct identifiers: a token left even partly in place counts as left in the output."""
    total: Counter = Counter()
    removed: Counter = Counter()
    for text, g, r in zip(texts, gold, replaced, strict=True):
        covered = set()
        for s in r:
            covered.update(range(s.start, s.end))
        for span in g:
            for m in _TOKEN.finditer(text, span.start, span.end):
                total[span.label] += 1
                if all(i in covered for i in range(m.start(), m.end())):
                    removed[span.label] += 1
    out = {lab: {"tokens": total[lab], "removed": removed[lab], "recall": removed[lab] / total[lab]} for lab in total}
    direct = [lab for lab in total if lab in E.DIRECT]
    n = sum(total[lab] for lab in direct)
    out["direct_identifiers"] = {
        "tokens": n,
        "removed": sum(removed[lab] for lab in direct),
        "recall": sum(removed[lab] for lab in direct) / n if n else 1.0,
    }
    return out


def leak_rate(
    texts: Sequence[str], gold: Sequence[Sequence[Span]], scrubbed: Sequence[str]
) -> dict[str, dict[str, float | int]]:
    """Share of gold identifier values (MIN_LEAK_CHARS or more letters/digits) still found verbatim in the scrubbed
    text of their document (case-insensitive, whole words), per entity and for all direct identifiers."""
    values: Counter = Counter()
    leaked: Counter = Counter()
    examples: dict[str, list[str]] = {}
    for text, g, out in zip(texts, gold, scrubbed, strict=True):
        lower = out.lower()
        for span in g:
            value = " ".join(text[span.start : span.end].split())
            if sum(ch.isalnum() for ch in value) < MIN_LEAK_CHARS:
                continue
            values[span.label] += 1
            pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, value.lower().split())) + r"(?!\w)"
            if re.search(pattern, lower):
                leaked[span.label] += 1
                examples.setdefault(span.label, [])
                if len(examples[span.label]) < 5:
                    examples[span.label].append(value)
    out: dict[str, dict[str, Any]] = {
        lab: {"values": values[lab], "leaked": leaked[lab], "rate": leaked[lab] / values[lab]} for lab in values
    }
    direct = [lab for lab in values if lab in E.DIRECT]
    n = sum(values[lab] for lab in direct)
    out["direct_identifiers"] = {
        "values": n,
        "leaked": sum(leaked[lab] for lab in direct),
        "rate": sum(leaked[lab] for lab in direct) / n if n else 0.0,
    }
    out["examples"] = examples  # type: ignore[assignment]
    return out


def evaluate_documents(
    docs: Sequence[tuple[str, Sequence[Span]]],
    *,
    mode: str = "spacy",
    threshold: float | None = None,
    operator: str = "tag",
    recall_mode: str = "default",
    detector: Any = None,
) -> dict[str, Any]:
    """Run the real `vft redact` path (scrub_records) on the documents and score what it replaced: span P/R/F2,
    token-level recall and the verbatim leak rate. `tag` output by default: a random surrogate could by chance
    equal another gold value of the document and be counted as a leak."""
    from redaction.engine import DEFAULT_THRESHOLD
    from redaction.scrub import scrub_records

    texts = [t for t, _ in docs]
    gold = [list(g) for _, g in docs]
    result = scrub_records(
        [{"text": t} for t in texts],
        ["text"],
        operator=operator,  # type: ignore[arg-type]
        mode=mode,  # type: ignore[arg-type]
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        keep_spans=True,
        recall_mode=recall_mode,  # type: ignore[arg-type]
        detector=detector,
    )
    replaced = [r.get("text", []) for r in result.spans]
    scrubbed = [r["text"] for r in result.records]
    out = score(gold, replaced)
    out["token_recall"] = token_recall(texts, gold, replaced)
    out["leak"] = leak_rate(texts, gold, scrubbed)
    name = getattr(detector, "name", mode)
    out.update({"documents": len(docs), "detector": name, "operator": operator, "recall_mode": recall_mode})
    return out


def evaluate_file(
    path: str | Path,
    *,
    mode: str = "spacy",
    threshold: float | None = None,
    recall_mode: str = "default",
    detector: Any = None,
) -> dict[str, Any]:
    data = read_gold(path)
    result = evaluate_documents(data, mode=mode, threshold=threshold, recall_mode=recall_mode, detector=detector)
    result["file"] = str(path)
    return result
