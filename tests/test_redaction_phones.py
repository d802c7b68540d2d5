"""The windowed phone recognizer finds exactly what Presidio's PhoneRecognizer finds, from less work."""

import pytest
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from redaction.engine import PHONE_REGIONS
from redaction.phones import WindowedPhoneRecognizer, candidate_windows, regions_for, shortest_number, shortest_valid

TEXTS = [
    "Call (617) 555-0199 ext 12 or +44 20 7946 0958.",
    "Tel. 030 12345678, Fax 030-1234567-9, mobil 0151 23456789",
    "BP 120/80 HR 72 RR 16 T 37.2, SpO2 98% on 2L",
    "seen 03/14/1952 at 10:30, next 2021-07-04 08:00:00",
    "numbers side by side 617-555-0199 617-555-0142,06 12 34 56 78;+33 6 12 34 56 78",
    "Telefone: (11) 98765-4321 / 17 9992-6199",
    "no digits here at all",
    "abc617-555-0199def and 5%617-555-0199",
    "Phone:\n541.422.1674x81109-Office ,356.480.0503x351-Fax",
    "from abroad 0044 20 7946 0958 or 011 44 20 7946 0958, locally 946-0958 or 7946 0958",
    "Wien 01 5880 0, Berlin 030 1234, year 1994, code 2345, Amsterdam 020 123 4567",
    "Roma 06 6982, Milano 02 8845 6789; São Paulo (11) 3456-7890, 0800 123 4567",
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_matches_as_presidio(text):
    ours = WindowedPhoneRecognizer(supported_regions=PHONE_REGIONS).analyze(text, [])
    theirs = PhoneRecognizer(supported_regions=PHONE_REGIONS).analyze(text, [])
    assert sorted((r.start, r.end, r.score) for r in ours) == sorted((r.start, r.end, r.score) for r in theirs)


def test_vital_signs_are_not_parsed():
    text = "HR 72 RR 16 T 37.2"
    assert shortest_number() >= 3
    assert candidate_windows(text) == []


def test_windows_never_reach_into_the_next_number():
    text = "Ref 123456,(617) 555-0199"
    (first, second) = candidate_windows(text)
    assert first[1] <= text.index("(") <= second[0] + 1


def test_short_stretches_are_parsed_only_for_regions_with_numbers_that_short():
    assert regions_for(" 1994.", PHONE_REGIONS) == ("DE", "AT")
    assert set(regions_for(" 617-555-0199 ", PHONE_REGIONS)) == set(PHONE_REGIONS)
    assert shortest_valid("US") == shortest_valid("CA")  # validated against every region of country code 1


def test_international_forms_are_parsed_for_every_region():
    for piece in (" +44 20 7946", " 0044 2079", " 011 44 20"):
        assert regions_for(piece, PHONE_REGIONS) == PHONE_REGIONS
