"""The shallow-copy context enhancer gives Presidio's scores and leaves the raw results as they were."""

import pytest
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer

from redaction.context import ShallowCopyContextEnhancer

TEXTS = [
    "Patient phone: 617-555-0199, SSN 078-05-1120, MRN 4471203.",
    "Seen by Dr. Avery Quinn on 03/14/2021 at 12 Elm Street, Springfield.",
    "account number 12345678 and license D1234567; email jo@example.org",
]


def enhance_both(detector, text):
    """Raw results of every recognizer, their scores before, and both enhancers' results."""
    analyzer = detector.analyzer
    artifacts = analyzer.nlp_engine.process_text(text, "en")
    recognizers = analyzer.registry.get_recognizers(language="en", all_fields=True)
    raw = [r for rec in recognizers for r in rec.analyze(text, rec.supported_entities, artifacts)]
    for r in raw:
        r.recognition_metadata = r.recognition_metadata or {}
        r.recognition_metadata.setdefault("recognizer_identifier", "none")
    before = [(r.start, r.end, r.score, dict(r.recognition_metadata)) for r in raw]
    theirs = LemmaContextAwareEnhancer().enhance_using_context(text, raw, artifacts, recognizers, ["phone"])
    ours = ShallowCopyContextEnhancer().enhance_using_context(text, raw, artifacts, recognizers, ["phone"])
    return raw, before, theirs, ours


@pytest.mark.parametrize("text", TEXTS)
def test_same_scores_as_presidios_enhancer(detector, text):
    raw, before, theirs, ours = enhance_both(detector, text)
    assert [(r.start, r.end, r.score) for r in ours] == [(r.start, r.end, r.score) for r in theirs]
    assert [(r.start, r.end, r.score, dict(r.recognition_metadata)) for r in raw] == before


def test_context_words_raise_scores(detector):
    _, before, _, ours = enhance_both(detector, TEXTS[0])
    assert any(r.score > b[2] for r, b in zip(ours, before, strict=True))
