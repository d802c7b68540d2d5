"""Readings, settings and clinical words in nursing notes are not identifiers: vital-sign ranges and blood gases are
no dates, shift times no phone numbers, "1400 TO" no Dutch postcode, "DNI PER PT REQUEST" no ID, and a titled name
stops where the name ends. Each case beside one that must still be found, so a check that drops too much fails."""

import pytest

from redaction import entities as E
from redaction.engine import Detector, plausible_value


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector("spacy")


def found(detector: Detector, text: str, label: str) -> list[str]:
    return [text[s.start : s.end] for s in detector.detect(text) if s.label == label]


@pytest.mark.parametrize(
    "text",
    [
        "BP 93-149/47-66. HR 80-93. NO ECTOPY NOTED.",
        "Tele sinus rhythm. BP 117/53-162/65. Swan dc'd after rounds.",
        "sats 94-98%. last abg:7.40/54/78/35/6. gi: abd soft.",
        "Vent settings 500x12/5/40%. tolerating settings well.",
        "10:00 the pt was switched to CPAP/PS of 10/5 c 35% SaO2.",
        "Pt c/o midsternal chest pressure, pain 6/10. EKG done.",
        "VENTED. SETTINGS-SIMV/PS, 500X10, 40%, & 5/8. ABG PENDING.",
        "RESP: remains vented IMV 700x10, 50% 8/5. sats >97%.",
    ],
)
def test_readings_are_not_dates(detector: Detector, text: str) -> None:
    assert found(detector, text, E.DATE) == []


@pytest.mark.parametrize(
    "text, date",
    [
        ("PICC PLACED IN R AC 11/17, ART LINE PLACED.", "11/17"),
        ("Admitted on 2/21/2014 from home.", "2/21/2014"),
        ("11/21.93 \nneuro: pt alert.", "11/21.93"),
        ("Vent settings unchanged since 5/8, weaning planned.", "5/8"),
        ("SIMV 500x10. Extubated 5/8.", "5/8"),
    ],
)
def test_dates_are_still_found(detector: Detector, text: str, date: str) -> None:
    assert any(date in d for d in found(detector, text, E.DATE))


def test_times_and_ranges_are_not_phone_numbers() -> None:
    for value in ("0700-1930", "140-160", "0330-0700", "2245-105-4.7"):
        assert not plausible_value(E.PHONE, value), value
    for value in ("555-1234", "020 7946 0958", "0221-9999"):
        assert plausible_value(E.PHONE, value), value


def test_number_like_identifiers_need_digits() -> None:
    assert not plausible_value(E.SSN, "PER PT REQUEST")
    assert not plausible_value(E.ZIP, "REFILL")
    assert plausible_value(E.SSN, "12345678Z")


def test_times_before_words_are_not_postcodes_in_upper_case(detector: Detector) -> None:
    assert found(detector, "PA CATHETER PULLED AT 1600 BY HO. MAPS 68-80.", E.ZIP) == []
    text = "Het adres is Damrak 1, 1012 AB Amsterdam."
    assert any("1012 AB" in text[s.start : s.end] for s in detector.detect(text))


@pytest.mark.parametrize(
    "text, name",
    [
        ("VANCO LEVEL PEAK 31.1. DR RIDLON NOTIFIED. VANCO TO BE HELD TODAY.", "RIDLON"),
        ("CK DRAWN AT 1515. DR. KNIGHT AWARE-ORDER FOR 5MG IV LOPRESSOR.", "KNIGHT"),
        ("Orders signed on chart by Dr. Art White. Will stop.", "Dr. Art White"),
    ],
)
def test_a_titled_name_stops_where_the_name_ends(detector: Detector, text: str, name: str) -> None:
    assert found(detector, text, E.PERSON) == [name]


@pytest.mark.parametrize(
    "text",
    [
        "ASSESSMENT: SEVERE CAD, MR \n \nPLAN: CONT. FAMILY TO VISIT.",
        "Given Tylenol at 430PM \n \nMS: Recievd sedated from EW. No further sz.",
        "Pt now sating 95-98% on RA and 100% on 2L. Contd rales up 1/4 on R.",
        "BS clear, SPO2 94-96%. NO resp distress noted.",
    ],
)
def test_clinical_words_are_not_names(detector: Detector, text: str) -> None:
    assert found(detector, text, E.PERSON) == []
