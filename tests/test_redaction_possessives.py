"""A name in the possessive is still a name ("with karen's sleep" in a lower-case visit dialogue was the one ACI-Bench
patient name the scrubber left), while an eponym before a condition noun ("Parkinson's disease") is not a person."""

import pytest

from redaction import entities as E
from redaction.engine import Detector
from redaction.names import name_tokens


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector("spacy")


def people(detector: Detector, text: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.detect(text) if s.label == E.PERSON]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("[doctor] okay how about any problems with karen's sleep | [patient] nope", "karen"),
        ("[doctor] and how is margaret’s appetite these days", "margaret"),
        ("CALLED MARY'S DAUGHTER AT HOME. BP STABLE.", "MARY"),
    ],
)
def test_a_possessive_name_is_removed(detector: Detector, text: str, name: str) -> None:
    assert any(name in p for p in people(detector, text))


@pytest.mark.parametrize(
    "text",
    [
        "History of Parkinson's disease and Crohn's disease, no Addison's disease.",
        "[doctor] any history of crohn's disease or bell's palsy",
        "the ABG's were fine, pt's wife at bedside",
    ],
)
def test_eponyms_and_abbreviations_are_not_people(detector: Detector, text: str) -> None:
    assert people(detector, text) == []


def test_name_tokens_split_the_possessive_only() -> None:
    assert [w for _, _, w in name_tokens("karen's dog's Crohn's disease it's")] == [
        "karen",
        "dog",
        "Crohn's",
        "disease",
        "it",
    ]
