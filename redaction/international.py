"""Identifier formats beyond the US clinical ones: international phone numbers, card numbers (Luhn or named),
postcodes (UK, Dutch, Brazilian, five-digit European before a town), street addresses in the common European
forms ("Hauptstraße 12", "12, rue de la Paix", "Calle Mayor 5", "Via Roma, 10", "Rua Augusta, 123"), secondary
address units, national identity numbers (UK NINO, French NIR, Italian codice fiscale, Spanish DNI/NIE, Brazilian
CPF, Dutch BSN by context), pager numbers and month/day dates ("7/22", the short form of clinical notes).

Every rule reports its `v` group; `check` rules run a validator on the value (digit counts, Luhn, not a clinical
abbreviation) so a pattern can be broad without being careless."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import regex

from redaction import entities as E
from redaction import lexicons


@dataclass(frozen=True)
class CheckedRule:
    name: str
    entity: str
    pattern: str
    score: float
    flags: int = 0
    check: Callable[[str], bool] | None = None


def _street_word_is_no_word(value: str) -> bool:
    """ "12 Imranstraat" is a street; "2 Spring", "3 Pathway" end like one but are words."""
    word = value.split()[-1].rstrip(".")
    return not (lexicons.is_dictionary_word(word) or lexicons.is_everyday(word))


def _surname_then_street_word(value: str) -> bool:
    """ "Clark Stream", "Wilson Shoals": the first word is a lexicon surname or given name ("Nurses Station" is no
    street)."""
    return lexicons.name_kind(value.split()[0].lower()) is not None


COMPOUND_STEM_MIN = 3  # "Stahrplatz", "Lolaweg": a name of three letters or more before the street word


def _compound_street_without_number(value: str) -> bool:
    """ "Ludmilla-Fiebig-Straße", "Briandreef", "Stollstr.": every hyphen-joined part written as a name (a capital,
    then lower case), the name before the street word three letters or more, and neither the whole nor its last
    part an English word, everyday word, clinical term or drug ("Offering", "Keypad", "A--Requiring" end like
    streets)."""
    word = value.rstrip(".")
    parts = word.split("-")
    if not all(len(p) >= 2 and p[0].isupper() and p[1:] == p[1:].lower() for p in parts):
        return False
    stem = regex.sub(r"(?i)(?:" + _COMPOUND + r")$", "", value).rstrip("-")
    if sum(ch.isalpha() for ch in stem) < COMPOUND_STEM_MIN:
        return False
    return not any(
        lexicons.is_dictionary_word(w) or lexicons.is_everyday(w) or lexicons.is_clinical(w)
        for w in {word.lower(), parts[-1].lower()}
    )


def _holds_a_rare_name_word(value: str) -> bool:
    """ "87 Jakobi 69": a capitalised word that is an unambiguous name or no frequent English word ("2 Story house",
    "3 Bedroom apartment" are homes, not addresses)."""
    words = regex.findall(r"\p{Lu}[\p{L}'’\-]*", value)
    return any(lexicons.name_kind(w) == "unambiguous" or not lexicons.is_common(w.lower()) for w in words)


def digits(value: str) -> int:
    return sum(ch.isdigit() for ch in value)


def luhn(value: str) -> bool:
    nums = [int(ch) for ch in value if ch.isdigit()]
    if not 12 <= len(nums) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(nums)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _not_clinical_letters(value: str) -> bool:
    letters = "".join(ch for ch in value if ch.isalpha()).lower()
    return letters not in lexicons.clinical_terms()


_UNIT_AFTER = r"(?!\s?(?:ns|mg|mcg|tab|tabs|units?|strength|dose|ml|cc|l|%|ths|rd|nd)\b)"
# settings, strengths and ratios written like dates: "PS 10/5", "STRENGTH 5/5", "1/2 NS"
_SETTING_BEFORE = (
    r"(?<!\b(?:ps|peep|cpap|bipap|strength|strengths|str|motor|grips?|bp|ie|i:e|ratio|x|rate|gtt|ml|mg|cc|"
    r"abg|vbg|nc|fio2|tv|rr|vent|simv|imv|psv)\s{0,2}[:=\-]?\s{0,2})"
)
# a month/day glued to the word before it by a hyphen or colon is still a date ("UO-9/10 LASIX", "HX:8/30"); after a
# digit, a space or a symbol the hyphen is a range or a minus ("3-9/10", "-9/10")
_GLUED_AFTER_WORD = r"(?<![\d/.])(?<![^\p{L}][\-:])(?<!^[\-:])"
_PARTICLES = r"(?:de|del|de la|de las|de los|des|du|di|da|do|dos|das|della|dei|delle|van|von|der|den|la|le|el)"
_CAP = r"[\p{Lu}][\p{L}'’\-]*\.?"
# the street words German and Dutch write joined to the street's name: "Hauptstraße", "Kerkstraat", "Lolaweg"
_COMPOUND = (
    r"straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|steig|pfad|chaussee|straat|laan|plein|"
    r"gracht|kade|singel|dijk|hof|pad|dreef|markt|baan|steeg|boulevard|plantsoen"
)
_BR_STATES = "AC|AL|AP|AM|BA|CE|DF|ES|GO|MA|MT|MS|MG|PA|PB|PR|PE|PI|RJ|RN|RS|RO|RR|SC|SP|SE|TO"
_BR_TOWN = r"(?:\s+(?:da|de|do|dos|das|\p{Lu}[\p{L}'’\-]*)){1,5}"  # "da Mata Grande", "Pereira"


def _words(kind: str) -> str:
    words = lexicons.street_types_before() if kind == "before" else lexicons.street_types_after()
    return "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))


def rules() -> tuple[CheckedRule, ...]:
    before, after = _words("before"), _words("after")
    after_cap = "|".join(
        regex.escape(w.capitalize())
        for w in sorted(lexicons.street_types_after(), key=len, reverse=True)
        if w.isalpha()
    )
    compound = _COMPOUND
    return (
        CheckedRule(
            "phone_international",
            E.PHONE,
            r"(?<![\w+])(?P<v>(?:\+|00)\d{1,3}[\s.\-]?(?:\(0\)[\s.\-]?)?(?:\(?\d{1,5}\)?[\s.\-]?){1,5}\d{2,6}"
            r"(?:\s?(?:x|ext\.?)\s?\d{1,6})?)(?!\w)",
            0.8,
            check=lambda v: 8 <= digits(v) <= 17,
        ),
        CheckedRule(
            "phone_trunk_prefix",
            E.PHONE,
            r"(?<![\w/.\-])(?P<v>\(?0\d{1,5}\)?(?:[\s.\-]?\d{2,8}){1,4}(?:\s?(?:x|ext\.?)\s?\d{1,6})?)(?![\w/\-])",
            0.7,
            check=lambda v: 9 <= digits(v) <= 13,
        ),
        CheckedRule(  # "85 1050-4668", "(11) 98977-9554": a Brazilian area code, then four or five and four digits
            "phone_br_local",
            E.PHONE,
            r"(?<![\w/.\-])(?P<v>(?:\(\d{2}\)[ \t]?|\d{2}[ \t])\d{4,5}-\d{4})(?![\w/\-])",
            0.6,
        ),
        CheckedRule(
            "phone_us_extension",
            E.PHONE,
            r"(?<![\w\-])(?P<v>(?:\(\d{3}\)\s?|\d{3}[\s.\-])\d{3}[\s.\-]\d{4}\s?(?:x|ext\.?)\s?\d{1,6})(?!\w)",
            0.8,
        ),
        CheckedRule(  # "can be reached at 555-1234", "son's number is 782-3345", "paged at 4-5678": a local number
            "phone_local_by_context",
            E.PHONE,
            r"(?i:\b(?:call|called|calling|phone|telephone|tel|reached|reach|number|cell|cellular|mobile|office|page|"
            r"paged|pager|beeper|ext|extension)\b|#)[^\n\d]{0,20}?(?<![\d\-/.])(?P<v>\d{3}-\d{4}|\d-\d{4})"
            r"(?![\d\-/])(?!\s?(?i:ns|mg|mcg|ml|cc|l|%|units?|hrs?|min|mmhg|ths|rd|nd)\b)",
            0.7,
        ),
        CheckedRule(  # "ext 54321", "x45678": an extension
            "phone_extension",
            E.PHONE,
            r"(?<![\w])(?i:ext\.?|extension|x)[ \t]?(?P<v>\d{4,5})\b",
            0.6,
        ),
        CheckedRule(
            "pager",
            E.PHONE,
            r"\b(?:pager|beeper|pgr|bleep|page)\s*(?:#|no\.?|number)?\s*[:#]?\s*(?P<v>\d{4,7})\b",
            0.85,
            regex.IGNORECASE,
        ),
        CheckedRule(
            "card_luhn",
            E.ACCOUNT,
            r"(?<![\d\-])(?P<v>\d{4}(?:[ \-]?\d{1,4}){2,4}|\d{12,19})(?![\d\-])",
            0.8,
            check=luhn,
        ),
        CheckedRule(
            "card_named",
            E.ACCOUNT,
            r"\b(?:card|credit|debit|cc|account|acct|konto|tarjeta|carta|cartão|carte|rekening)\b[^\n\d]{0,25}?"
            r"(?P<v>\d{4}(?:[ \-]?\d{1,4}){2,4}|\d{10,19})(?![\d\-])",
            0.85,
            regex.IGNORECASE,
        ),
        CheckedRule("postcode_uk", E.ZIP, r"\b(?P<v>[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2})\b", 0.75),
        CheckedRule("postcode_nl", E.ZIP, r"\b(?P<v>[1-9]\d{3}\s?[A-Z]{2})\b", 0.7, check=_not_clinical_letters),
        CheckedRule("postcode_br", E.ZIP, r"\b(?P<v>\d{5}-\d{3})\b", 0.8),
        CheckedRule(
            "postcode_before_town",
            E.ZIP,
            r"(?<![\d.,/\-])(?P<v>\d{5}(?:-?\d{3})?),?[ \t]+(?=\p{Lu}\p{Ll}+)",
            0.7,
        ),
        CheckedRule(
            "town_after_postcode",
            E.LOCATION,
            r"(?<![\d.,/\-])\d{5}(?:-?\d{3})?[ \t]+(?P<v>\p{Lu}[\p{L}\-]+(?:[ \-](?:\p{Lu}[\p{L}\-]+|am|an|der|sur|de|"
            r"la|le|en|di|del)){0,4})",
            0.65,
        ),
        CheckedRule(  # "19356317 da Mata Grande / SP": a Brazilian state after a CEP and its town
            "state_after_cep",
            E.LOCATION,
            r"\b\d{5}-?\d{3}" + _BR_TOWN + r" / (?P<v>" + _BR_STATES + r")\b",
            0.75,
        ),
        CheckedRule(  # "19356317 da Mata Grande / SP": the CEP itself, written without its hyphen
            "cep_before_town_and_state",
            E.ZIP,
            r"\b(?P<v>\d{5}-?\d{3})" + _BR_TOWN + r" / (?:" + _BR_STATES + r")\b",
            0.75,
        ),
        CheckedRule(  # "on Clark Stream", "the corner of Main Street and Whittaker Street": a surname, a street word
            "street_named_unnumbered",
            E.ADDRESS,
            r"(?:\b(?:on|along|off|of)|(?<=\bcorner\s+of\s[^.\n]{1,60})\band)\s+(?P<v>\p{Lu}\p{Ll}+\s+(?:"
            + after_cap
            + r"))\b",
            0.6,
            check=_surname_then_street_word,
        ),
        CheckedRule(  # "Shelby lives at 87 Jakobi 69, Laane": what follows "lives at" and a house number is an address
            "address_after_living_cue",
            E.ADDRESS,
            r"\b(?i:lives|lived|live|living|resides|resided|reside)\s+(?i:at|in)\s+(?P<v>\d{1,5}[a-zA-Z]?,?\s+"
            r"\p{Lu}[\p{L}'’\-]*\.?(?:\s+(?:\p{Lu}[\p{L}'’\-]*\.?|\d{1,5}[a-zA-Z]?\b)){0,5})",
            0.7,
            check=_holds_a_rare_name_word,
        ),
        CheckedRule(  # "Correia do Norte MT 62333322": a CEP after its Brazilian state
            "cep_after_state",
            E.ZIP,
            r"\b(?:" + _BR_STATES + r")[ \t]+(?P<v>\d{5}-?\d{3})\b",
            0.75,
        ),
        CheckedRule(  # "27039, Sannazzaro De' Burgondi (PV)": an Italian province after a CAP and its town
            "province_after_cap",
            E.LOCATION,
            r"\b\d{5},?(?:\s+(?:di|de|del|della|sul|sulla|\p{Lu}[\p{L}'’\-]*)){1,5}\s?\((?P<v>[A-Z]{2})\)",
            0.75,
        ),
        CheckedRule("postcode_after_town", E.ZIP, r"\b\p{Lu}[\p{L}\-]+,\s*(?P<v>\d{5})\b", 0.7),
        CheckedRule(
            "postcode_named",
            E.ZIP,
            r"\b(?:zip|postal|postcode|post code|plz|cep|cap|code postal|código postal|codice postale)\b"
            r"(?:\s*code)?\s*(?:is|:|#)?\s*(?P<v>[A-Z0-9]{2,5}[ \-]?[A-Z0-9]{2,4})\b",
            0.85,
            regex.IGNORECASE,
        ),
        CheckedRule(
            "street_number_first",
            E.ADDRESS,
            r"(?P<v>\b\d{1,6}(?:\s?(?:bis|ter|[a-zA-Z]))?,?\s+(?i:"
            + before
            + r")(?:\s+(?:"
            + _PARTICLES
            + r"|"
            + _CAP
            + r")){1,6})",
            0.8,
        ),
        CheckedRule(
            "street_type_first",
            E.ADDRESS,
            r"(?P<v>\b(?i:" + before + r")(?:\s+(?:" + _PARTICLES + r"|" + _CAP + r")){1,6},?\s+\d{1,5}"
            r"(?:\s?[a-zA-Z]\b)?)",
            0.8,
        ),
        CheckedRule(
            "street_compound",
            E.ADDRESS,
            r"(?P<v>\b\p{Lu}[\p{L}\-]*(?i:" + compound + r")\s+\d{1,5}(?:\s?[a-z]\b|[/\-]\d+[a-z]?)?)",
            0.8,
        ),
        CheckedRule(
            "street_french_unnumbered",  # "on boulevard Pierre Lefort", "the north side of avenue Traore"
            E.ADDRESS,
            r"(?P<v>\b(?i:rue|boulevard|avenue|chemin|allée|impasse|quai)\s+(?:(?:de|du|des|de la|la|le)\s+)?"
            r"\p{Lu}[\p{L}'’\-]+(?:\s+\p{Lu}[\p{L}'’\-]+){0,3})",
            0.7,
        ),
        CheckedRule(
            "street_compound_number_first",  # "122 Imranstraat", "98/44 Bolnbachallee", "3-1 Pechelstraße"
            E.ADDRESS,
            r"(?<![\w/.\-])(?P<v>\d{1,5}(?:[a-z]|[/\-]\d{1,4}[a-z]?)?\s+\p{Lu}[\p{L}\-]*(?i:" + compound + r"))(?!\w)",
            0.8,
            check=_street_word_is_no_word,
        ),
        CheckedRule(  # "on Ludmilla-Fiebig-Straße", "The bus station is on Stahrplatz": no number at all
            "street_compound_unnumbered",
            E.ADDRESS,
            r"(?<![\w\-])(?P<v>\p{Lu}[\p{L}\-]*(?i:" + compound + r"))(?![\w\-])",
            0.6,
            check=_compound_street_without_number,
        ),
        CheckedRule(
            "street_english",
            E.ADDRESS,
            r"(?P<v>\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:" + _CAP + r"\s+){1,4}(?:" + after + r")\b\.?)",
            0.8,
            regex.IGNORECASE,
            check=lambda v: v.split()[1][0].isupper() if len(v.split()) > 1 else False,
        ),
        CheckedRule(
            "secondary_unit",
            E.ADDRESS,
            r"\b(?P<v>(?:Apt|Apartment|Unit|Suite|Ste|Studio|Flat|Piso|Puerta|Appartamento|Piano|Interno|Wohnung|"
            r"Bus|Box|Apto|Casa|Bloco|Lote)\.?\s*#?\d+[A-Za-z]?)\b",
            0.75,
        ),
        CheckedRule("nino_uk", E.SSN, r"\b(?P<v>[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D])\b", 0.8),
        CheckedRule("codice_fiscale", E.SSN, r"\b(?P<v>[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z])\b", 0.9),
        CheckedRule("dni_nie", E.SSN, r"\b(?P<v>(?:\d{8}|[XYZ]\d{7})-?[A-Z])\b", 0.8),
        CheckedRule(
            "nir_fr",
            E.SSN,
            r"\b(?P<v>[12]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-9]\d)\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}(?:\s?\d{2})?)\b",
            0.75,
        ),
        CheckedRule("cpf_br", E.SSN, r"\b(?P<v>\d{3}\.\d{3}\.\d{3}-\d{2})\b", 0.9),
        CheckedRule(
            "national_id_named",
            E.SSN,
            r"\b(?:ssn|social security|national insurance|ni number|nino|bsn|burgerservicenummer|sofinummer|cpf|dni|"
            r"nie|codice fiscale|steuer-?id|tax id|personal number|numéro de sécurité sociale)"
            r"(?:\s*(?:number|no\.?|#))?\s*(?:is|:)?\s*(?P<v>[A-Z0-9][A-Z0-9 .\-]{6,18}[A-Z0-9])\b",
            0.85,
            regex.IGNORECASE,
        ),
        CheckedRule(
            "date_month_day",
            E.DATE,
            _SETTING_BEFORE
            + _GLUED_AFTER_WORD
            + r"(?P<v>(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\d|3[01]))(?![\d/%]|[.:]\d)"
            + _UNIT_AFTER,
            0.6,
            regex.IGNORECASE,
            check=lambda v: v not in ("1/2", "1/3", "1/4", "2/3", "3/4", "5/5", "4/5", "3/5"),
        ),
        CheckedRule(
            "date_month_year",
            E.DATE,
            r"(?<![\d/.\-:])(?P<v>(?:0?[1-9]|1[0-2])/(?:[4-9]\d))(?![\d/%:])" + _UNIT_AFTER,
            0.6,
        ),
    )
