"""The drug hint line: the dictionary's matches in the text's own words, each once, in order; the option puts it in
every prompt (training and answering alike) and leaves prompts alone when off."""

from __future__ import annotations

import pytest

from core.pack import get_pack
from verticals.clinical.drug_mentions import drug_mentions, hint_line


def test_mentions_are_unique_lower_case_and_in_order_of_first_mention():
    text = "Still on Norvasc 5 mg? And lisinopril... yes, norvasc every morning, lisinopril at night."
    assert drug_mentions(text) == ["norvasc", "lisinopril"]


def test_a_two_word_name_wins_over_its_parts_and_punctuation_does_not_hide_a_name():
    names = drug_mentions("I take fish oil, vitamin D and Tylenol-3 for the pain.")
    assert "fish oil" in names and "vitamin d" in names and "tylenol" in names
    assert "oil" not in names and "vitamin" not in names


@pytest.mark.parametrize("text", ["", "The patient walked the dog twice a day.", "!!! ..."])
def test_text_without_a_drug_gets_none(text):
    assert drug_mentions(text) == []
    assert hint_line(text) == "Drug names in the text: none"


def test_the_option_adds_the_hint_to_prompts_and_only_then():
    text = "[patient] i take metformin 500 mg twice a day."
    plain = get_pack("clinical").prompt_messages(text, style="compact")[-1]["content"]
    hinted = get_pack("clinical", {"drug_hints": True}).prompt_messages(text, style="compact")[-1]["content"]
    assert "Drug names" not in plain
    assert hinted.startswith(plain) and hinted.endswith("Drug names in the text: metformin")
