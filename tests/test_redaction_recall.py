"""What scrubbing must hold on data it was not written for: token-level recall and the verbatim leak rate computed
on hand-made cases, international formats, names in upper-case notes and lower-case transcripts, clinical words
that are not names, the high-recall mode, and the process pool giving the same spans."""

from __future__ import annotations

import pytest

from redaction import entities as E
from redaction.engine import Detector, Span
from redaction.evaluate import evaluate_documents, leak_rate, token_recall


def test_token_recall_counts_words_left_in_place():
    text = "Call John Smith at 555-123-4567."
    gold = [[Span(5, 15, E.PERSON), Span(19, 31, E.PHONE)]]
    replaced = [[Span(5, 9, E.PERSON), Span(19, 31, E.PHONE)]]  # "Smith" left, the phone number gone
    out = token_recall([text], gold, replaced)
    assert out[E.PERSON] == {"tokens": 2, "removed": 1, "recall": 0.5}
    assert out[E.PHONE]["recall"] == 1.0 and out["direct_identifiers"]["recall"] == pytest.approx(4 / 5)


def test_leak_rate_finds_values_verbatim_and_ignores_short_ones():
    text = "J. Smith, 12 Elm Street"
    gold = [[Span(0, 8, E.PERSON), Span(10, 23, E.ADDRESS), Span(0, 2, E.PERSON)]]
    out = leak_rate([text], gold, ["J. Smith, <ADDRESS>"])
    assert out[E.PERSON] == {"values": 1, "leaked": 1, "rate": 1.0}  # "J." is too short to count
    assert out[E.ADDRESS]["rate"] == 0.0 and out["direct_identifiers"]["rate"] == 0.5
    assert out["examples"][E.PERSON] == ["J. Smith"]
    assert leak_rate([text], gold, ["Smithson, <ADDRESS>"])[E.PERSON]["rate"] == 0.0  # whole words only


def test_evaluation_runs_the_real_scrub_path():
    docs = [("Patient Bartholomew Quigley, phone 617-555-0142.", [Span(8, 27, E.PERSON), Span(35, 47, E.PHONE)])]
    out = evaluate_documents(docs, mode="regex")
    assert out["token_recall"][E.PHONE]["recall"] == 1.0 and out["leak"][E.PHONE]["rate"] == 0.0
    assert {"token_recall", "leak", "direct_identifiers", "per_entity"} <= set(out)


@pytest.fixture(scope="module")
def detector():
    return Detector("spacy")


def _found(detector, text):
    return {text[s.start : s.end] for s in detector.detect(text)}


@pytest.mark.parametrize(
    "text, value",
    [
        ("Ring me on +49 (0) 6841 455047 tomorrow.", "+49 (0) 6841 455047"),
        ("Mobile: (0151) 4960551", "(0151) 4960551"),
        ("My card 4615 4447 5228 7197 652 was lost", "4615 4447 5228 7197 652"),
        ("Here's my SSN: ZZ 64 89 66 T", "ZZ 64 89 66 T"),
        ("Wir wohnen in der Schleichstraße 19, 48337 Lichtenfels.", "Schleichstraße 19"),
        ("Please send it to Vicolo Sgalambro, 59 in Campagna.", "Vicolo Sgalambro, 59"),
        ("My zip code is OL5P 0LG", "OL5P 0LG"),
        ("Address: Tieslaan 48, 6069 BY Zwartsluis", "6069 BY"),
        ("CPF 123.456.789-09 confirmed", "123.456.789-09"),
        ("Sometimes people call me Itziar", "Itziar"),
        ("IV NURSE VIRGINIA SALLESE CALLED AND SAID", "VIRGINIA SALLESE"),
        ("HUSBAND DID NOT COME. SEEN BY DR. HEALEY THIS AM.", "HEALEY"),
        ("hi , martha , how are you feeling", "martha"),
        ("7/22 FOUND BY HUSBAND ON FLOOR", "7/22"),
        ("Mijn adres is 122 Kerkstraat, Oudewater.", "122 Kerkstraat"),
        ("Schicken Sie es an 98/44 Lindenallee, bitte.", "98/44 Lindenallee"),
        ("Wir sind umgezogen: 3-1 Pechelstraße", "3-1 Pechelstraße"),
        ("The bakery is on boulevard Pierre Lefort, near the station.", "boulevard Pierre Lefort"),
        ("Postfach 12\n Lobenstein\n Tschechien 60099", "60099"),
        ("He lives on the north side of Ludmilla-Fiebig-Straße.", "Ludmilla-Fiebig-Straße"),
        ("The bus station is on Stahrplatz", "Stahrplatz"),
        ("The title refers to Briandreef street in Roding.", "Briandreef"),
        ("He lives at 4 Nynkeboulevard, Moordrecht", "Nynkeboulevard"),
        ("Looking to support Briand S.A. in Saint Céline 82797 in its mission.", "82797"),
        ("Dra. Eloá da Cunha\nCorreia do Norte MT 62333322", "62333322"),
        ("ZIP: 9100 UA", "9100 UA"),
        ("I didn't get any message on my registered 85 1050-4668. Could you look?", "85 1050-4668"),
        ("My name is Jan but everyone calls me Anne-Marie", "Anne-Marie"),
        ("A tribute to Viola Karz-Gerlach – sadly, she wasn't impressed.", "Karz-Gerlach"),
        ("As promised, here's Ernst-Otto's address: Main St 5", "Ernst-Otto"),
        ("Stella shouted at Bob: what are you doing here?", "Stella"),
        ("Bob shouted at Sabine: what are you doing here?", "Sabine"),
        ("I would like to remove my kid Grant from the will.", "Grant"),
        ("It was a done thing between him and Sumaya's kid; and everybody thought so.", "Sumaya"),
        ("Shelby Araujo lives at 87 Jakobi 69, Laane", "87 Jakobi 69"),
        ("WIFE CAN BE REACHED AT 555-1234 TONIGHT.", "555-1234"),
        ("son's number is 782-3345, call him", "782-3345"),
        ("PAGED DR AT 4-5678.", "4-5678"),
        ("call ext 54321 for the team", "54321"),
        ("I now live in the corner of Kapelaniestraat 88 and Whittaker Street.", "Whittaker Street"),
    ],
)
def test_formats_that_were_missed(detector, text, value):
    assert any(value in f for f in _found(detector, text)), _found(detector, text)


@pytest.mark.parametrize(
    "text",
    [
        "PT ALERT, MAE. CV: SR 80S. ABD SOFT. FOLEY TO GRAVITY. NEURO INTACT.",
        "Foley draining clear urine. Started Atenolol 25 mg. Spont breaths noted.",
        "TOL PS 10/5. STRENGTH 5/5 IN ALL EXTREMITIES. GIVEN 1/2 NS.",
        "BP 91-102/45-52, ABG 7.4/40/100/26 ON 2L NC.",
        "TOLERATING CAPTOPRIL 12.5 MG. STILL HAS THICK SPUTUM.FIRST.STILL",
        "pt tolerated the day well, put back in av pacing",
        "Gave 2 Spring water bottles; 3 Pathway checks done.",
        "Offering a Keypad for Monitoring; Catering was late.",
        "He spoke briefly to the team.\n\nA--Requiring meds for bp support.",
        "We drove a Rolls-Royce in 2019 to the hotel.",
        "She lives in 3 Bedroom apartment with her cat.",
        "WORK OF BREATHING IMPROVED. CALLED FOR UO 100-1200 ML OVERNIGHT.",
    ],
)
def test_clinical_words_are_not_identifiers(detector, text):
    assert not detector.detect(text), _found(detector, text)


def test_high_recall_mode_scrubs_what_is_not_known_to_be_safe():
    text = "Met with caseworker Leona Labowich about the 88812 claim."
    default = Detector("spacy").detect(text)
    high = Detector("spacy", recall_mode="high_recall").detect(text)
    covered = {i for s in high for i in range(s.start, s.end)}
    assert all(i in covered for i in range(text.index("Labowich"), text.index("Labowich") + 8))
    assert all(i in covered for i in range(text.index("88812"), text.index("88812") + 5))
    assert len(high) >= len(default)
    assert not any(text[s.start : s.end].lower() in ("caseworker", "claim") for s in high)


def test_process_pool_gives_the_same_spans():
    from bench.redact_throughput import notes

    docs = notes(80)
    one = list(Detector("spacy", batch_size=16).detect_many(docs))
    many = list(Detector("spacy", batch_size=16, workers=2).detect_many(docs))
    assert one == many and sum(map(len, one)) > 80


@pytest.mark.parametrize(
    "text",
    [
        "PT FROM BALTIMORE. BALTIMORE 1200 MG GIVEN.",
        "Moved to Lisbon 2019-05, then Porto 3.5 km away.",
    ],
)
def test_a_number_after_a_place_is_no_postcode_when_it_is_a_dose_or_a_date(detector, text):
    assert not [s for s in detector.detect(text) if s.label in (E.ZIP, E.ADDRESS)], _found(detector, text)


def test_a_postcode_follows_a_found_place_but_a_year_or_a_dose_does_not():
    from redaction.address_blocks import postcodes_after_places

    def after(text, word, label=E.LOCATION):
        spans = [Span(text.index(word), text.index(word) + len(word), label)]
        return [text[s.start : s.end] for s in postcodes_after_places(text, spans) if s.label == E.ZIP]

    assert after("Looking to support them in Saint Céline 82797 in its mission.", "Saint Céline") == ["82797"]
    assert after("They moved to Horn 3493 EP last year.", "Horn") == ["3493 EP"]
    assert after("Gave Dr Kaur 25000 units, then Dr Kaur 12000 mg.", "Dr Kaur", E.PERSON) == []
    assert after("In Boston 2019 it rained.", "Boston") == []


def test_composed_addresses_are_dev_samples_of_another_shape_with_exact_spans():
    from bench.redact_recall import TEMPLATES
    from redaction.multilocale import generate, read_templates

    templates = read_templates(TEMPLATES)
    faker_rows = list(generate(templates, 200, seed=3, split="dev"))
    composed = list(generate(templates, 200, seed=3, split="dev", address_style="composed"))
    assert [r["text"] for r in faker_rows] != [r["text"] for r in composed]
    assert all(r["split"] == "dev" for r in composed)
    addresses = [r["text"][s["start"] : s["end"]] for r in composed for s in r["spans"] if s["label"] == E.ADDRESS]
    assert addresses and all(a == a.strip() and a for a in addresses)
    mixed = list(generate(templates, 200, seed=3, split="dev", address_style="mixed"))
    assert mixed == list(generate(templates, 200, seed=3, split="dev", address_style="mixed"))  # seeded
    assert [r["text"] for r in mixed] != [r["text"] for r in composed]
    with pytest.raises(ValueError, match="address style"):
        next(generate(templates, 1, seed=3, address_style="nope"))


def test_a_postcode_closing_an_address_block_on_its_own_line():
    from redaction.address_blocks import postcodes_after_places

    text = "Mr Jean Dupont\n 12 rue Victor Hugo\n Dupuydan\n Nouvelle Calédonie 04260"
    street = Span(text.index("12 rue"), text.index("12 rue") + len("12 rue Victor Hugo"), E.ADDRESS)
    zips = [text[s.start : s.end] for s in postcodes_after_places(text, [street]) if s.label == E.ZIP]
    assert zips == ["04260"]
    far = "Mr Jean Dupont\n 12 rue Victor Hugo" + "\nNothing here but words." * 5 + "\nTotal 04260"
    street = Span(far.index("12 rue"), far.index("12 rue") + len("12 rue Victor Hugo"), E.ADDRESS)
    assert not [s for s in postcodes_after_places(far, [street]) if s.label == E.ZIP]  # no found part just above
