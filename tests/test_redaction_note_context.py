"""Context that tells a name from a word in nursing notes: capitals kept in a lower-case note, a relation in brackets
or joined by hyphens, a double-barrelled surname, a title then a word then a verb of being told. And what is no
name or phone number: a dictionary word after a title or a cue ("NP suctioning", "seen by urology"), a cue inside a
longer word ("rhonchi"), a range of readings ("TV 390-550") or a timed reading ("glucose @ 0600-281")."""

import pytest

from redaction import entities as E
from redaction.engine import Detector, _deliberate_capitals, plausible_value
from redaction.names import name_tokens
from tests.conftest import people

LOWER_NOTE = (
    "neuro: alert and oriented, follows commands. cv: sinus rhythm, no ectopy. resp: lungs clear, sats 97% on "
    "2l nc. gi: tolerating diet, bowel sounds present. social: {} will visit tomorrow. plan: continue to monitor."
)


@pytest.mark.parametrize("name", ["Nora Feeney", "Emil Vostrikov"])
def test_capitals_kept_in_a_lower_case_note_mark_a_name(detector: Detector, name: str) -> None:
    text = LOWER_NOTE.format(f"spoke with patient's friend {name}, who")
    assert any(name in p for p in people(detector, text))


def test_only_a_sentence_start_capital_is_not_deliberate() -> None:
    assert _deliberate_capitals(["Nora", "Feeney"], sentence_start=True)
    assert _deliberate_capitals(["Feeney"], sentence_start=False)
    assert not _deliberate_capitals(["Comfort"], sentence_start=True)
    assert not _deliberate_capitals(["Nora", "feeney"], sentence_start=False)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Call list: Bertram Oyelaran (son) cell 617-555-0142, try first.", "Bertram Oyelaran"),
        ("SOCIAL: LARGE FAMILY. ULLA BRANDVOLD (DAUGHTER) IS SPOKESPERSON.", "ULLA BRANDVOLD"),
        ("SOCIAL:SON-TAVIS---CALLS EVERY EVENING. PT SLEEPING.", "TAVIS"),
        ("SPOKE WITH MARY SMITH-JONES AT BEDSIDE. PT CALM.", "MARY SMITH-JONES"),
        ("some stridor noted, dr green aware. strong cough, sats stable.", "green"),
        ("ADDENDUM  Sons Ezra and Abel in to visit, updated on plan.", "Ezra"),
    ],
)
def test_names_found_by_their_context(detector: Detector, text: str, name: str) -> None:
    found = people(detector, text)
    assert any(name in p for p in found), found  # the whole name, inside one span


def test_a_name_joined_to_its_relation_is_replaced_without_the_relation(detector: Detector) -> None:
    assert people(detector, "SOCIAL:DAUGHTER-KARLENE---CALLS DAILY. SON-IN-LAW AT BEDSIDE.") == ["KARLENE"]


def test_name_tokens_split_a_relation_joined_by_hyphens_only() -> None:
    words = [w for _, _, w in name_tokens("DAUGHTER-KARLENE---CALLS X-RAY FOLLOW-UP son-inlaw SON-IN-LAW")]
    assert words == ["DAUGHTER", "KARLENE", "CALLS", "X-RAY", "FOLLOW-UP", "son-inlaw", "SON-IN-LAW"]


@pytest.mark.parametrize(
    "text",
    [
        "After NP suctioning, pt. sounds better and appears comfortable.",
        "She was seen by urology yesterday; no note in chart yet.",
        "bs rhonchi bilaterally. nts for moderate amounts of thick secretions.",
        "BREATH SOUNDS WITH RHONCHI BIBASILAR, COUGHING UP THICK SPUTUM.",
        "labs drawn, ho made aware. dr now aware, rn also notified.",
        "SPOKE WITH PT RE: FOLLOW-UP APPOINTMENT.",
        "daughter and son from out of state and son-inlaw in to visit.",
        "Weaned in June, readmitted since December with pneumonia.",
    ],
)
def test_words_after_titles_and_cues_are_not_people(detector: Detector, text: str) -> None:
    assert people(detector, text) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("LAST DOSE OF CHEMOTHERAPY IN MARCH OF 1998. NO FURTHER TREATMENT.", "MARCH OF 1998"),
        ("discharged home in sept. and readmitted to rehab later.", "sept."),
        ("No admissions since February, per wife.", "February"),
    ],
)
def test_months_in_prose_are_dates(detector: Detector, text: str, date: str) -> None:
    found = [text[s.start : s.end] for s in detector.detect(text) if s.label == E.DATE]
    assert date in found, found


@pytest.mark.parametrize("value", ["390-550", "120-180", "0600-281", "0430 150"])
def test_readings_are_not_phone_numbers(value: str) -> None:
    assert not plausible_value(E.PHONE, value)


@pytest.mark.parametrize("value", ["555-0123", "2345-6789", "0000 1135", "617-555-0142", "0201 234567"])
def test_phone_numbers_stay_phone_numbers(value: str) -> None:
    assert plausible_value(E.PHONE, value)
