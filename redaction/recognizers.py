"""Recognizers Presidio lacks or misses on clinical text: MRNs, street addresses, ZIP codes, clinical dates, phone
and fax numbers, health-plan / member IDs, account numbers, SSNs, ages over 89, and titled person names.

Each is a regex with an optional capture group: a prefix such as "MRN:" raises confidence but is not itself PII,
so only the group is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from redaction import entities as E

_STREET_SUFFIXES = [
    "Street",
    "St",
    "Avenue",
    "Ave",
    "Road",
    "Rd",
    "Boulevard",
    "Blvd",
    "Lane",
    "Ln",
    "Drive",
    "Dr",
    "Court",
    "Ct",
    "Place",
    "Pl",
    "Way",
    "Terrace",
    "Ter",
    "Circle",
    "Cir",
    "Parkway",
    "Pkwy",
    "Highway",
    "Hwy",
    "Trail",
    "Trl",
    "Square",
    "Sq",
    "Alley",
    "Plaza",
    "Loop",
    "Row",
    "Crossing",
    "Run",
    "Path",
    "Pike",
]


def street_suffixes() -> list[str]:
    """USPS street suffixes (Faker ships the list) plus common abbreviations."""
    try:
        from faker.providers.address.en_US import Provider

        suffixes = set(Provider.street_suffixes)
    except ImportError:  # pragma: no cover - faker is a dependency
        suffixes = set()
    return sorted(suffixes | set(_STREET_SUFFIXES), key=len, reverse=True)


_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
# months that are no everyday word or abbreviation after "in": not "May", "March", "Dec" (decreased), "Jan"
_MONTHS_UNAMBIGUOUS = (
    r"(?:January|Feb(?:ruary)?|Apr(?:il)?|June?|July?|August|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|December)\.?"
)
_ID_VALUE = r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,19}"


@dataclass(frozen=True)
class Rule:
    name: str
    entity: str
    pattern: str
    score: float
    flags: int = regex.IGNORECASE


RULES: tuple[Rule, ...] = (
    Rule(
        "mrn",
        E.MRN,
        r"\b(?:MRN|med(?:ical)?\.? rec(?:ord)?s?\.?(?: (?:number|no\.?|#))?|chart (?:number|no\.?|#)"
        r"|patient (?:id|number|#)|hospital (?:number|no\.?|#))\s*[:#.]?\s*(?P<v>[A-Z]{0,3}-?\d{5,10})\b",
        0.95,
    ),
    Rule(
        "member_id",
        E.ID,
        r"\b(?:member|subscriber|policy|insurance|health plan|medicaid|medicare|group|plan|"
        r"beneficiary)\s*(?:id|identifier|number|no\.?|#)\s*[:#.]?\s*(?:is\s+)?(?P<v>" + _ID_VALUE + r")\b",
        0.9,
    ),
    Rule(
        "account",
        E.ACCOUNT,
        r"\b(?:account|acct|billing)\s*(?:number|no\.?|#)?\s*[:#.]?\s*(?:is\s+)?"
        r"(?P<v>\d[\d-]{4,18}\d)\b",
        0.9,
    ),
    Rule("ssn", E.SSN, r"\b(?P<v>(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4})\b", 0.9, 0),
    Rule("ssn_context", E.SSN, r"\b(?:SSN|social security(?: number| no\.?| #)?)\s*[:#.]?\s*(?P<v>\d{9})\b", 0.9),
    Rule(
        "phone",
        E.PHONE,
        r"(?<![\w-])(?P<v>(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}"
        r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?)(?![\w-])",
        0.75,
    ),
    Rule(
        "date_numeric",
        E.DATE,
        r"(?<![\d/.-])(?P<v>(?:0?[1-9]|1[0-2])[/.-](?:0?[1-9]|[12]\d|3[01])[/.-](?:19|20)?\d{2})"
        r"(?![\d/-]|\.\d)",
        0.85,
        0,
    ),
    Rule(
        "date_numeric_dmy",  # day first, as in most of the world: 31-05-05, 26/10/2012
        E.DATE,
        r"(?<![\d/.-])(?P<v>(?:0?[1-9]|[12]\d|3[01])[/.-](?:0?[1-9]|1[0-2])[/.-](?:19|20)?\d{2})(?![\d/-]|\.\d)",
        0.85,
        0,
    ),
    Rule("date_iso", E.DATE, r"\b(?P<v>(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01]))\b", 0.9, 0),
    Rule(
        "date_text",
        E.DATE,
        r"\b(?P<v>" + _MONTHS + r"\s+(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{2})?)\b",
        0.85,
    ),
    Rule(
        "date_text_dmy",
        E.DATE,
        r"\b(?P<v>(?:0?[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTHS + r",?\s+(?:19|20)\d{2})\b",
        0.85,
    ),
    Rule("date_month_year", E.DATE, r"\b(?P<v>" + _MONTHS + r",?\s+(?:of\s+)?(?:19|20)\d{2})\b", 0.7),
    Rule("date_in_month", E.DATE, r"\b(?:in|since|until|from)\s+(?P<v>" + _MONTHS_UNAMBIGUOUS + r")(?![\w-])", 0.6),
    Rule(
        "age_over_89", E.AGE, r"\b(?P<v>(?:9\d|1[0-2]\d))(?:\s*|-)(?:years?(?:\s*|-)old|y/?o|yrs?(?:\s*|-)old)\b", 0.85
    ),
    Rule("age_context", E.AGE, r"\b(?:age[d]?|aged)\s*[:]?\s*(?P<v>(?:9\d|1[0-2]\d))\b", 0.8),
    Rule("zip_after_state", E.ZIP, r"\b(?:[A-Z]{2}|(?-i:[A-Z][a-z]+))\s+(?P<v>\d{5}(?:-\d{4})?)\b", 0.8, 0),
    Rule("zip_context", E.ZIP, r"\b(?:zip|postal)(?:\s*code)?\s*[:#]?\s*(?P<v>\d{5}(?:-\d{4})?)\b", 0.9),
    Rule(
        "titled_person",
        E.PERSON,
        r"\b(?i:mr|mrs|ms|miss|mx|dr|prof|doctor)\.?\s+(?P<v>[A-Z][a-zA-Z'-]+"
        r"(?:\s+[A-Z][a-zA-Z'-]+)?)",
        0.8,
        0,
    ),
    Rule(
        "greeted_person",
        E.PERSON,
        r"\b(?i:hi|hello|hey|so|thanks|thank you|okay|ok|bye|good (?:morning|afternoon|"
        r"evening)),?\s+(?P<v>[A-Z][a-z'-]+)\b(?!\s+[a-z]+ing\b)",
        0.6,
        0,
    ),
    Rule(
        "credentialed_person",
        E.PERSON,
        r"\b(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z]\.)?\s+[A-Z][a-zA-Z'-]+),\s+"
        r"(?:MD|M\.D\.|DO|RN|NP|PA-C|PhD)\b",
        0.8,
        0,
    ),
    Rule("city_before_state_zip", E.LOCATION, r"\b(?P<v>[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?),\s+[A-Z]{2}\s+\d{5}\b", 0.8, 0),
    Rule(
        "named_person",
        E.PERSON,
        r"\b(?:patient(?:'s)?\s+name|name(?:\s+is)?|pt\b\.?|patient|spouse|wife|husband|"
        r"daughter|son|mother|father|contact|caregiver|guardian)\s*[:,]?\s*(?-i:(?P<v>[A-Z][a-z'-]+(?:\s+[A-Z]\.)?"
        r"(?:\s+[A-Z][a-zA-Z'-]+)?))",
        0.75,
    ),
)


def address_rule() -> Rule:
    suffix = "|".join(regex.escape(s) for s in street_suffixes())
    pattern = (
        r"(?-i:\b(?P<v>\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:[A-Z0-9][A-Za-z0-9'-]*\.?\s+){1,4}(?:" + suffix + r")\.?"
        r"(?:,?\s+(?:Apt|Apartment|Unit|Suite|Ste|Room|Rm|Fl|Floor|#)\.?\s*#?[A-Za-z0-9-]+)?)(?![A-Za-z]))"
    )
    return Rule("street_address", E.ADDRESS, pattern, 0.85, 0)


def _names_a_place(value: str) -> bool:
    """In text without case, a street needs one word of four letters or more that is neither common, nor an
    everyday word, nor clinical ("RUE DVT- WAS THERAPEUTIC", "5 HRS TOL WELL" are not streets)."""
    from redaction import lexicons

    words = [w.lower() for w in regex.findall(r"\p{L}[\p{L}'’]*", value)]
    return any(
        len(w) >= 4 and not lexicons.is_common(w) and not lexicons.is_everyday(w)  # is_common covers clinical terms
        for w in words
    )


_NAME_WORD = regex.compile(r"\p{L}[\p{L}'’\-]*")
_STREET_RULES = (
    "street_number_first",
    "street_type_first",
    "street_compound",
    "street_english",
    "address_after_living_cue",
)


def _names_a_street(value: str, rule: str) -> bool:
    """In mixed-case text, a street found by an international pattern needs a capitalised name word that is no
    abbreviation of four capitals or fewer, no clinical term and no function word ("4L via NC", "c. PAD 21-24",
    "C. On NRB 100"), and a compound street is no English word ("Wearing 40%"). The caller cuts the value at its
    first line break ("7 \nGU-voiding well" is a reading and a heading)."""
    from redaction import lexicons

    words = _NAME_WORD.findall(value)
    if rule == "street_compound":
        return bool(words) and not lexicons.is_everyday(words[0])
    types = lexicons.street_types_before() | lexicons.street_types_after()
    return any(
        w[0].isupper()
        and not (w.isupper() and len(w) <= 4)
        and w.lower() not in types
        and not lexicons.is_clinical(w)
        and lexicons.zipf(w.lower()) < lexicons.FUNCTION_ZIPF
        for w in words
    )


def _person_value(text: str, match_start: int, start: int, end: int, *, cue: bool = False) -> tuple[int, int] | None:
    """The name a titled or cued pattern found, without the words after it that are no name ("DR HUGHES
    NOTIFIED", "DR. KNIGHT AWARE-ORDER"); None when the cue and the name are on different lines ("MR \n\nPLAN")
    or the first word is a common word that no name lexicon holds ("Pt Alert"). After a cue word (`cue`: "pt",
    "son") rather than a title the first word must be a name ("Pt Will", "pt. Dialysis", "Pt Teary" are not)."""
    from redaction import lexicons

    if "\n" in text[match_start:start]:
        return None
    kept = None
    for m in _NAME_WORD.finditer(text, start, end):
        if kept is not None and "\n" in text[kept : m.start()]:
            break
        parts = [p for p in m.group(0).lower().strip("'’-").split("-") if len(p) > 1]
        if kept is None and cue:
            unnamed = all(lexicons.name_kind(p) is None for p in parts)
            if unnamed and all(lexicons.is_common(p) or lexicons.is_everyday(p) for p in parts):
                return None
            kept = m.end()
            continue
        if not parts or any(p in lexicons.first_names() or p in lexicons.last_names() for p in parts):
            kept = m.end()
            continue
        wordy = lexicons.is_common if kept is None else lambda p: lexicons.is_common(p) or lexicons.is_everyday(p)
        if all(wordy(p) for p in parts):
            break
        kept = m.end()
    return (start, kept) if kept is not None else None


def default_rules() -> tuple[Any, ...]:
    from redaction.international import rules as international_rules

    return (*RULES, address_rule(), *international_rules())


class ClinicalPatternRecognizer(EntityRecognizer):
    """All pattern rules in one recognizer (clinical and international); reports the `v` group of each match and
    drops values a rule's `check` rejects."""

    def __init__(self, rules: tuple[Any, ...] | None = None):
        self.rules = rules if rules is not None else default_rules()
        self.compiled = [(r, regex.compile(r.pattern, r.flags)) for r in self.rules]
        super().__init__(
            supported_entities=sorted({r.entity for r in self.rules}),
            name="ClinicalPatternRecognizer",
            supported_language="en",
        )

    def load(self) -> None:  # required by EntityRecognizer
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        from redaction.names import document_case

        caseless = document_case(text) != "mixed"
        out = []
        for rule, rx in self.compiled:
            if entities and rule.entity not in entities:
                continue
            check = getattr(rule, "check", None)
            for m in rx.finditer(text):
                start, end = m.span("v") if "v" in rx.groupindex else m.span()
                value = text[start:end]
                if caseless and rule.entity == E.ADDRESS and not _names_a_place(value):
                    continue  # "3 WAY FOLEY IN PLACE", "VIA FOLEY 50": clinical words in upper case
                if not caseless and rule.name in _STREET_RULES:
                    line_end = text.find("\n", start, end)
                    if line_end != -1:
                        end = start + len(text[start:line_end].rstrip())
                        value = text[start:end]
                    if not _names_a_street(value, rule.name):
                        continue
                if rule.entity == E.PERSON:
                    trimmed = _person_value(text, m.start(), start, end, cue=rule.name == "named_person")
                    if trimmed is None:
                        continue
                    start, end = trimmed
                    value = text[start:end]
                if end > start and (check is None or check(value)):
                    out.append(
                        RecognizerResult(
                            rule.entity,
                            start,
                            end,
                            rule.score,
                            analysis_explanation=None,
                            recognition_metadata={"recognizer_name": self.name, "rule": rule.name},
                        )
                    )
        return out
