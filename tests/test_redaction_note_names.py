"""Names the rest of the name recognizer misses: a name in the possessive ("with karen's sleep" in a lower-case visit
dialogue was the one ACI-Bench patient name the scrubber left), a signature line of a nursing note ("irene snell, rn"),
and an initial before a surname that is also a word when a verb of being told follows ("E. WELSH AWARE"). What looks
like them is no name: an eponym before a condition noun ("Parkinson's disease"), a line that only ends in a
credential-like abbreviation ("CALL HO PRN")."""

import pytest

from redaction.engine import Detector
from redaction.names import name_tokens
from tests.conftest import people


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


@pytest.mark.parametrize(
    "text, name",
    [
        ("They had 6: Chelsea, Terence, Mark, Lee, Ruth and Yvonne.", "Terence"),
        ("Please ask Cooke about the invoice.", "Cooke"),
    ],
)
def test_names_wordnet_knows_only_as_proper_nouns_are_names_in_prose(detector: Detector, text: str, name: str) -> None:
    assert name in people(detector, text)


@pytest.mark.parametrize("text", ["LBM on Sunday PTA.", "anterior CT (24 French, 16 cm) placed", "Ab softer, BS +."])
def test_days_languages_and_short_words_stay(detector: Detector, text: str) -> None:
    from redaction import lexicons

    assert not any(lexicons.names_a_person_in_prose(w) for w in ("Sunday", "French", "Ab"))
    assert "Sunday" not in people(detector, text) and "French" not in people(detector, text)
