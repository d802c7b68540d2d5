"""Spoken numbers in dictated visits: the windows that say a vital sign in words must be found, and a number must
not be found inside a longer one."""

import pytest

from verticals.clinical.spoken_numbers import states_number
from verticals.clinical.windows import window_forms

EXAM = (
    "[doctor] your blood pressure looks pretty good today at one twenty eight over seventy two your temperature is "
    "ninety eight . seven and your heart rate is sixty four ."
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (EXAM, "128"),
        (EXAM, "72"),
        (EXAM, "98.7"),
        (EXAM, "64"),
        ("oxygen is ninety-nine percent", "99"),
        ("pulse ox a hundred percent", "100"),
        ("one hundred and ten over seventy", "110"),
        ("a hundred twenty over eighty", "120"),
        ("bp one oh five over sixty", "105"),
        ("temp ninety eight point six", "98.6"),
        ("weight is two hundred pounds", "200"),
        ("bp 128/72 today", "128"),
        ("temp 98.0", "98.0"),
    ],
)
def test_a_number_written_or_spoken_is_found(text, number):
    assert states_number(text, number)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (EXAM, "28"),  # inside "one twenty eight"
        (EXAM, "120"),
        (EXAM, "98"),  # the whole part of "ninety eight . seven"
        (EXAM, "7"),  # its decimal
        (EXAM, "70"),
        ("twenty eight", "20"),
        ("ninety eight point six", "98.7"),
        ("1280 steps", "128"),
        ("temp 98.7", "98"),
    ],
)
def test_a_number_inside_a_longer_one_is_not_found(text, number):
    assert not states_number(text, number)


def test_where_stated_spoken_vitals_go_to_the_window_that_says_them():
    windows = ["[patient] i have had a cough for a week .", EXAM]
    form = {
        "chief_complaint": "cough",
        "vitals": {"blood_pressure": "128/72", "temperature": 98.7, "heart_rate": 64, "oxygen_saturation": 97},
    }
    targets, counts = window_forms(windows, form, where_stated=True)
    assert targets[0]["vitals"] is None
    assert targets[1]["vitals"] == {"blood_pressure": "128/72", "temperature": 98.7, "heart_rate": 64}
    assert counts == {"values_placed": 3, "values_not_in_text": 1}
    digits_only, _ = window_forms(windows, form)  # the default: digits only
    assert digits_only[1]["vitals"] is None
