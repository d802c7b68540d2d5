"""Places and address blocks: the gazetteer finds countries, regions and towns in several languages but not
everyday words; a found street or postcode grows to its whole block and stops where the address ends."""

import pytest

from redaction import entities as E
from redaction.address_blocks import grow, grow_blocks
from redaction.engine import Span
from redaction.gazetteer import GazetteerRecognizer
from redaction.international import rules

GAZ = GazetteerRecognizer()


def places_in(text: str) -> set[str]:
    return {text[r.start : r.end] for r in GAZ.analyze(text, [E.LOCATION])}


@pytest.mark.parametrize(
    "text, place",
    [
        ("She moved here from Allemagne last year.", "Allemagne"),  # French
        ("Er wohnt jetzt in Neuseeland.", "Neuseeland"),  # German
        ("Mudou-se para a Nova Zelândia em 2019.", "Nova Zelândia"),  # Portuguese, two words
        ("Trabaja en Albacete desde enero.", "Albacete"),  # a Spanish town
        ("Patient flew back from China on Monday.", "China"),  # a country that is also a word, capitalised
        ("Transferred from Catonsville yesterday.", "Catonsville"),  # a town of a few thousand people
        ("PT TRANSFERRED FROM BALTIMORE THIS AM.", "BALTIMORE"),  # upper-case note: five letters or more
        ("Lives in Maryland with her son.", "Maryland"),  # a US state
    ],
)
def test_gazetteer_finds_places(text, place):
    assert place in places_in(text)


@pytest.mark.parametrize(
    "text",
    [
        "The mobile unit came by at noon.",  # "Mobile" is a town, but "mobile" a word
        "Reading the chart again, nothing new.",  # "Reading" at a sentence start is a word
        "GOT CHINA CUP OF TEA, TOLERATED WELL.",  # a country that is a word, in text without case
        "OTA SET AT 5, ICA PATENT.",  # short upper-case abbreviations that are also towns
        "Given morphine for pain, asthma stable.",  # clinical words
    ],
)
def test_gazetteer_leaves_words(text):
    assert places_in(text) == set()


def test_gazetteer_ignores_other_entities():
    assert GAZ.analyze("Lives in Maryland.", [E.PERSON]) == []


def block(text: str, part: str) -> str:
    start = text.index(part)
    s, e = grow(text, start, start + len(part))
    return text[s:e]


def test_address_grows_over_its_block():
    text = "Send it to Stretto Pace, 387 Piano 7 / 38079, Bolbeno (TN). Thanks."
    assert block(text, "38079") == "Stretto Pace, 387 Piano 7 / 38079, Bolbeno (TN"


def test_address_growth_stops_at_sentence_and_lower_case_words():
    text = "He lives at 12 Rue Haute, 75001 Paris. Call him tomorrow."
    assert block(text, "12 Rue Haute") == "12 Rue Haute, 75001 Paris"
    text = "the office at 42 Oak Street is closed on mondays"
    assert block(text, "42 Oak Street") == "42 Oak Street"


def test_address_growth_stops_at_frequent_words():
    text = "Write to 42 Oak Street, Please reply soon"
    assert block(text, "42 Oak Street") == "42 Oak Street"


def test_grown_postcode_becomes_address_and_swallowed_spans_merge():
    text = "Adresse: Anne-Katrin-Ritter-Straße 567, 78532 Tuttlingen"
    street = text.index("Anne")
    zip_start = text.index("78532")
    spans = [
        Span(street, text.index(",", street), E.ADDRESS, 0.8),
        Span(zip_start, zip_start + 5, E.ZIP, 0.7),
        Span(text.index("Tuttlingen"), len(text), E.LOCATION, 0.6),
    ]
    (merged,) = grow_blocks(text, spans)
    assert text[merged.start : merged.end] == "Anne-Katrin-Ritter-Straße 567, 78532 Tuttlingen"
    assert merged.label == E.ADDRESS


def test_spans_without_address_are_untouched():
    text = "Seen by Dr Miller on Monday"
    spans = [Span(8, 17, E.PERSON, 0.9)]
    assert grow_blocks(text, spans) == spans


def _rule(name: str):
    (rule,) = [r for r in rules() if r.name == name]
    return rule


def test_postcode_before_town_allows_a_comma():
    import regex

    pattern = regex.compile(_rule("postcode_before_town").pattern)
    assert pattern.search("38079, Bolbeno").group("v") == "38079"
    assert pattern.search("heart rate 72, stable") is None


def test_compound_street_with_capitalised_suffix():
    import regex

    pattern = regex.compile(_rule("street_compound").pattern)
    assert pattern.search("Anne-Katrin-Ritter-Straße 567").group("v") == "Anne-Katrin-Ritter-Straße 567"


def test_language_names_are_no_places():
    assert places_in("Speaks ENGLISH and some French at home.") == set()


def test_place_list_is_built_once_and_kept_on_disk(tmp_path, monkeypatch):
    from redaction import gazetteer

    monkeypatch.setenv("VFT_CACHE", str(tmp_path))
    built = []
    monkeypatch.setattr(gazetteer, "_build_places", lambda: built.append(1) or {"tuttlingen": True})
    gazetteer.places.cache_clear()
    try:
        assert gazetteer.places() == {"tuttlingen": True}
        gazetteer.places.cache_clear()
        assert gazetteer.places() == {"tuttlingen": True}  # read back from the file, not rebuilt
        assert built == [1]
        assert list((tmp_path / "redaction").glob("places-*.json"))
    finally:
        gazetteer.places.cache_clear()


def test_state_and_province_codes_after_a_postcode_and_town():
    import regex

    state = regex.compile(_rule("state_after_cep").pattern)
    assert state.search("19356317 da Mata Grande / SP").group("v") == "SP"
    assert state.search("DVT / PE ruled out") is None and state.search("12345678 units / PE") is None
    province = regex.compile(_rule("province_after_cap").pattern)
    assert province.search("27039, Sannazzaro De' Burgondi (PV)").group("v") == "PV"
    assert province.search("HR 72 (NL) stable") is None


def test_italian_street_types_open_a_street_written_number_first():
    import regex

    from redaction.lexicons import street_types_before

    assert {"stretto", "rotonda", "incrocio", "canale"} <= street_types_before()
    pattern = regex.compile(_rule("street_number_first").pattern)
    assert pattern.search("his address: 45 Stretto Irma").group("v") == "45 Stretto Irma"


def test_cep_before_town_and_state_and_streets_named_without_a_number():
    import regex

    cep = regex.compile(_rule("cep_before_town_and_state").pattern)
    assert cep.search("Maravilha, 19356317 da Mata Grande / SP").group("v") == "19356317"
    assert cep.search("dose 12345678 units / PE") is None
    street = _rule("street_named_unnumbered")
    found = regex.compile(street.pattern).search("He lives on the north side of Browning Land.")
    assert found.group("v") == "Browning Land" and street.check(found.group("v"))
    nurses = regex.compile(street.pattern).search("pt moved on Nurses Station")
    assert nurses is None or not street.check(nurses.group("v"))
