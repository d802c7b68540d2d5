"""Nursing notes name people without capitals or titles: a signature line ("irene snell, rn") and an initial before
a surname that is also a word, when a verb of being told follows ("E. WELSH AWARE"). Lines that only end in a
credential-like abbreviation ("CALL HO PRN", "CONTINUE TO MONITOR, RN") name nobody."""

import pytest

from redaction import entities as E
from redaction.engine import Detector


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector("spacy")


def people(detector: Detector, text: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.detect(text) if s.label == E.PERSON]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("PT RESTING COMFORTABLY.\n                   irene snell, rn  \n", "irene snell"),
        ("WHILE MEDICAL ISSUES BEING TREATED.\n    EARL N. RAND, RRT     \n", "EARL N. RAND"),
        ("node involvement, per oncology note.\n    anita morris rn\n", "anita morris"),
        ("LAB: INR THIS AM 6.0. E. WELSH AWARE. PT RECEIVED 2 FFP", "E. WELSH"),
        ("HR 120S, J. GREEN NOTIFIED, NO NEW ORDERS.", "J. GREEN"),
    ],
)
def test_note_names_are_found(detector: Detector, text: str, name: str) -> None:
    assert name in people(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "PAIN CONTROLLED. WILL CONTINUE TO MONITOR, RN\n",
        "PLAN: CALL HO PRN\n",
        "FOLLOW UP WITH NP\n",
        "SATS 90S. S. SUCTIONED FOR THICK SPUTUM. FAMILY AWARE.",
        "NEURO: A. FIB RATE CONTROLLED, MD AWARE.",
    ],
)
def test_lines_that_name_nobody(detector: Detector, text: str) -> None:
    assert people(detector, text) == []
