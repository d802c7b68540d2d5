"""The strongest simple alternative to this project's scrubber: Presidio as a new user runs it. Its default
recognizers and NLP configuration (pointed at the bundled spaCy model, since nothing may come from a model hub),
every result kept (Presidio's analyzer threshold is 0), overlaps merged; none of this project's recognizers,
filters or span growth. The redaction benchmark scores it beside the default mode, through the same scrub path."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

from redaction import entities as E
from redaction.engine import analysis_view, offline_tldextract, presidio_nlp_config
from redaction.spans import Span, stronger_label, union_overlaps

NAME = "presidio_defaults"


@lru_cache(maxsize=1)
def presidio_default_analyzer() -> Any:
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    offline_tldextract()
    nlp_engine = NlpEngineProvider(nlp_configuration=presidio_nlp_config()).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


def presidio_spans(raw: Iterable[Any]) -> list[Span]:
    """Presidio's results in this project's labels, overlaps merged. Presidio's anonymizer replaces whatever its
    analyzer found, so an entity without a label here (NRP, UK_NHS, ...) is replaced too, as a generic ID."""
    spans = []
    for r in raw:
        label = E.canonical(r.entity_type)
        spans.append(Span(r.start, r.end, label if label in E.ALL else E.ID, float(r.score)))
    return union_overlaps(spans, stronger_label)


class PresidioDefaultsDetector:
    """Same interface as redaction.engine.Detector (detect, detect_many), Presidio's defaults behind it."""

    name = NAME

    def __init__(self, batch_size: int = 64):
        self.batch_size = batch_size
        self.analyzer = presidio_default_analyzer()

    def detect(self, text: str) -> list[Span]:
        return presidio_spans(self.analyzer.analyze(analysis_view(text), language="en"))

    def detect_many(self, texts: Iterable[str]) -> Iterator[list[Span]]:
        from presidio_analyzer import BatchAnalyzerEngine

        views = [analysis_view(t) for t in texts]
        batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)
        for raw in batch.analyze_iterator(views, language="en", batch_size=self.batch_size):
            yield presidio_spans(raw)
