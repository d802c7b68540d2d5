"""Whole names and escaped line breaks: a found name grows over titles, particles, hyphenated and following
surnames and degree suffixes; escaped "\\n" in exported text reads as a line break; day-first dates count."""

import pytest

from redaction import entities as E
from redaction.engine import analysis_view
from redaction.name_blocks import grow_names
from redaction.recognizers import ClinicalPatternRecognizer
from redaction.spans import Span


def grown(text: str, part: str, caseless: bool = False) -> str:
    start = text.index(part)
    (span,) = grow_names(text, [Span(start, start + len(part), E.PERSON, 0.8)], caseless)
    return text[span.start : span.end]


@pytest.mark.parametrize(
    "text, found, whole",
    [
        ("Please contact Sig.ra Maria Tuzzolino today.", "Maria Tuzzolino", "Sig.ra Maria Tuzzolino"),
        ("Meet Lois van den Brink-Bernaards at noon.", "Lois van den Brink", "Lois van den Brink-Bernaards"),
        ("Signed, Hans-Rudolf Gotthard B.Sc.", "Gotthard", "Hans-Rudolf Gotthard B.Sc."),
        ("Univ.Prof. Elke Mude will attend.", "Elke", "Univ.Prof. Elke Mude"),
        ("Ask Bertrand du Dumas.", "Bertrand", "Bertrand du Dumas"),
        ("Written by John Smith, PhD for the board.", "John Smith", "John Smith, PhD"),
        ("Maybe it's under Ise van den Broek-van der Laan", "Ise", "Ise van den Broek-van der Laan"),
        ("For my take on de Koning, see below.", "Koning", "de Koning"),
        ("He met Alix de la Marie there.", "Marie", "Alix de la Marie"),
        ("Pierre called d' Heripon twice.", "Heripon", "d' Heripon"),
    ],
)
def test_name_grows_to_the_whole_name(text, found, whole):
    assert grown(text, found) == whole


def test_name_growth_stops_at_words_and_sentences():
    assert grown("Smith called. The nurse came.", "Smith") == "Smith"
    assert grown("They drove the van Smith rented.", "Smith") == "van Smith"  # the price of leading particles
    assert grown("MET DE VRIES TODAY", "VRIES", caseless=True) == "VRIES"  # upper case: "DE", "DO" may be words
    assert grown("I saw Anna yesterday at home", "Anna") == "Anna"
    assert grown("Anna Smith. Then a walk.", "Anna Smith") == "Anna Smith"


def test_upper_case_notes_keep_their_abbreviations():
    # in text without case "MS" is multiple sclerosis or morphine as often as a title
    assert grown("PT SEEN BY MS SMITH TODAY", "SMITH", caseless=True) == "SMITH"


def test_other_spans_are_untouched():
    text = "Call 555-0100 now"
    spans = [Span(5, 13, E.PHONE, 0.9)]
    assert grow_names(text, spans, caseless=False) == spans


def test_escaped_line_breaks_read_as_line_breaks():
    text = "Phone:\\n541.422.1674\\,Fax"
    view = analysis_view(text)
    assert len(view) == len(text)
    assert view == "Phone: \n541.422.1674 ,Fax"
    assert analysis_view("no escapes here") == "no escapes here"
    assert analysis_view("a real \\\\n stays") == "a real \\\\n stays"  # an escaped backslash is not a line break


@pytest.mark.parametrize("text, value", [("On 31-05-05 it began", "31-05-05"), ("born 26/10/2012.", "26/10/2012")])
def test_day_first_dates(text, value):
    found = {(r.entity_type, text[r.start : r.end]) for r in ClinicalPatternRecognizer().analyze(text, [])}
    assert (E.DATE, value) in found


def test_vent_settings_are_no_dates():
    text = "vent 10/5, PEEP 5/10, BP 120/80"
    found = {r.entity_type for r in ClinicalPatternRecognizer().analyze(text, [])}
    assert E.DATE not in found


def persons(text: str) -> set[str]:
    from redaction.names import PersonNameRecognizer

    return {text[r.start : r.end] for r in PersonNameRecognizer().analyze(text, [E.PERSON])}


@pytest.mark.parametrize(
    "text, name",
    [
        ("PVC'S NOTED. W. MAROTTA AWARE. PT GIVEN MG", "W. MAROTTA"),  # an initial before a surname
        ("NP DJURIC MADE AWARE, PT BOLUSED", "DJURIC"),  # a clinical role before a name
        ("RABBI KLEIN CAME TO SPEAK", "KLEIN"),
        ("Pt seen. Dr. ridlon aware. No changes made.", "ridlon"),  # a lower-case name after a title
        ("bp 120 to 135 per d ross.pacing wires attached", "d ross"),  # who gave the order, after "per"
        ("CXR DONE. AS PER E. WELSH: BILAT PLEURAL EFFUSIONS.", "E. WELSH"),
        ("to wake & wean despite low ci per carol wolfe)", "carol wolfe"),
    ],
)
def test_names_in_clinical_notes(text, name):
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "CULTURE GREW E. COLI AND S. AUREUS.",  # species, not initials and surnames
        "PT'S. SUCTIONED FOR THICK SPUTUM.",  # an inflected word after an initial
        "PA LINE IN PLACE, PA PRESSURES STABLE.",  # PA is a catheter here, not a physician assistant
        "PLAN: A. CONTINUE ABX B. WEAN VENT",  # outline letters
        "SBP in 160's per a line. Lasix 40 mg per day per protocol per team, per x ray.",  # "per" before no name
    ],
)
def test_clinical_words_are_no_names(text):
    assert persons(text) == set()


@pytest.mark.parametrize(
    "text, name",
    [
        ("Amber is a 45 year old woman with chest pain.", "Amber"),  # an age phrase describes a person
        ("Vial, a 66-year-old man, grew up in Berlin.", "Vial"),
        ("Marguerite is from Lyon.", "Marguerite"),  # what only a person does
        ('Henry: "Who are you?"\nMaya: I am his daughter.', "Maya"),  # a transcript's speaker
        ("For my take on de Barrio, see below.", "Barrio"),  # a surname particle before the word
        ("A 1968 film starring Pinto.", "Pinto"),  # a credit
        ("The true gender of Jade has been under debate.", "Jade"),  # a capital inside a lower-case sentence
        ("Is there a better example than early Hurst?", "Hurst"),
    ],
)
def test_context_marks_an_everyday_word_as_a_name(text, name):
    assert name in persons(text)


@pytest.mark.parametrize(
    "text",
    [
        "Comfort: Denies pain. No narcs given.",  # a note's section header, no speech after it
        "Amber is the colour of the lamp.",  # no age, no person's predicate
        "Flights to Rio de Janeiro are full.",  # a particle before a word that is no lexicon name
        "P: Transfer to Floor when bed available.",  # a frequent word capitalised by a sloppy writer
        "on ROom air, sats above 96%.",
        "She sang Amber Waves to the crowd.",  # a run of capitals is a title, not a name
    ],
)
def test_without_such_context_the_word_stays(text):
    assert not {"Comfort", "Amber", "Janeiro", "Floor", "ROom"} & persons(text)


def listed(text: str, found: list[str] = ()) -> set[str]:
    from redaction.name_blocks import coordinated_names

    spans = [Span(text.index(f), text.index(f) + len(f), E.PERSON) for f in found]
    return {text[s.start : s.end] for s in coordinated_names(text, spans) if s.label == E.PERSON}


def test_names_listed_together_are_all_names():
    assert listed("Our 3 founders: Ford, Sanchez and Lynch. The idea was born here.") == {"Ford", "Sanchez", "Lynch"}
    assert listed("Founders: Costa, Ana Lima.", found=["Ana Lima"]) == {"Costa", "Ana Lima"}


def test_lists_that_are_not_all_names_stay():
    assert listed("Ford, Toyota and Honda sell cars.") == set()  # not every member is a name
    assert listed("Ford and Lynch came.") == set()  # two lexicon names and no found person: too little
    text = "We drove through Paris, Lyon and Nice."
    places = [Span(text.index("Paris"), text.index("Paris") + 5, E.LOCATION)]
    from redaction.name_blocks import coordinated_names

    assert coordinated_names(text, places) == places  # a list that touches a place is left alone
    assert listed("Social- Son, David updated.", found=["David"]) == {"David"}  # a relation is no member


def test_a_given_name_ner_took_for_a_place_does_not_stop_a_list_of_persons():
    from redaction.name_blocks import coordinated_names

    text = "They had 6: Ester, Kaique, Camila, Maria Eduarda and Brayan."
    spans = [Span(text.index(w), text.index(w) + len(w), E.PERSON) for w in ("Kaique", "Maria Eduarda", "Brayan")]
    spans.append(Span(text.index("Camila"), text.index("Camila") + 6, E.LOCATION))
    found = {text[s.start : s.end] for s in coordinated_names(text, spans) if s.label == E.PERSON}
    assert "Ester" in found
    text = "We drove through Paris, Lyon and Nice."
    alone = [Span(text.index("Lyon"), text.index("Lyon") + 4, E.LOCATION)]
    assert coordinated_names(text, alone) == alone  # no found person: a list of places stays a list of places
