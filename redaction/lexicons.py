"""Word lists the recognizers consult, built once from well-kept sources rather than typed in: person names of every
Latin-script locale Faker ships (~20k given names, ~19k surnames) and street words of eight locales, how common a
word is in English (wordfreq), and clinical words and abbreviations that are never identifiers
(redaction/data/clinical_terms.txt, this project's own list, and the ~26k one-word drug and brand names of the
drug-named-entity-recognition package: "Levaquin", "Zofran", "Dantrolene").

A name that is also a common English word ("Mark", "Rose", "Max") is *ambiguous*: it needs a second piece of
evidence (a title, a relation word, a neighbouring name). Other names are *unambiguous*."""

from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "pt_BR")
COMMON_ZIPF = 3.5  # wordfreq Zipf frequency: >= 3.5 means about 3 or more per million words of English
FUNCTION_ZIPF = 5.5  # "the", "will", "may", "can": in some locale's name list, never a name in English text
NAME_PARTICLES = frozenset(
    "da de del della der des di do dos das du la le van von vom zu ten ter y e bin al el mac st".split()
)
CLINICAL_TERMS_FILE = Path(__file__).parent / "data" / "clinical_terms.txt"
# Given names that are also everyday English words: a name only with more evidence.
EVERYDAY_WORD_NAMES = frozenset(
    (
        "amber angel april art august autumn baker bill brook brooke carl carol case cash chance charity "
        "chase christian cole crystal daisy dawn dean destiny don drew earl faith frank gene glen grace grant "
        "guy heather holly honor hope hunter iris ivy jack jade joy june justice king lee lily major mark "
        "mason max may miracle page patience pearl precious ray rich river rose ruby sky star stormy sue "
        "summer sunny tanner will"
    ).split()
)
ENGLISH_LOCALES = ("en", "en_US", "en_GB", "en_IE", "en_NZ")
POPULAR_GIVEN_NAMES = 800  # the most frequent US given names (Faker's weights) are names first, words second


_LATIN = re.compile(r"^[a-zà-ÿ'\-]+$")


def _values(provider: Any, attr: str) -> list[str]:
    try:
        return [str(v) for v in (getattr(provider, attr, ()) or ())]
    except TypeError:  # a few locales define names as properties
        return []


@lru_cache(maxsize=1)
def _person_names() -> tuple[frozenset[str], frozenset[str]]:
    import faker.providers.person as person

    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attr in ("first_names", "first_names_female", "first_names_male", "first_names_nonbinary"):
            first.update(_values(provider, attr))
        last.update(_values(provider, "last_names"))
    return _tokens(first), _tokens(last)


def _tokens(names: set[str]) -> frozenset[str]:
    out = set()
    for name in names:
        for part in name.replace("-", " ").split():
            part = part.strip(".'").lower()
            if len(part) > 1 and part not in NAME_PARTICLES and _LATIN.match(part):
                out.add(part)
    return frozenset(out)


@lru_cache(maxsize=1)
def dictionary() -> frozenset[str]:
    """English common nouns, verbs, adjectives and adverbs: WordNet's word index, shipped in the spaCy model's
    lemmatizer tables (no download)."""
    import spacy

    from redaction.engine import SPACY_MODEL

    nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "tagger", "parser", "ner", "attribute_ruler", "senter"])
    index = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
    return frozenset(w for pos in index.keys() for w in index[pos] if w.isalpha())  # noqa: SIM118 - a Table


@lru_cache(maxsize=1)
def popular_given_names() -> frozenset[str]:
    provider = importlib.import_module("faker.providers.person.en_US").Provider
    weighted: dict[str, float] = {}
    for attr in ("first_names_female", "first_names_male"):
        for name, weight in dict(getattr(provider, attr)).items():
            weighted[name.lower()] = max(weighted.get(name.lower(), 0.0), float(weight))
    return frozenset(sorted(weighted, key=weighted.__getitem__, reverse=True)[:POPULAR_GIVEN_NAMES])


@lru_cache(maxsize=1)
def english_given_names() -> frozenset[str]:
    """Given names of the English locales: frequent in English text because they are names, not words."""
    names: set[str] = set()
    for loc in ENGLISH_LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_female", "first_names_male"):
            names.update(_values(provider, attr))
    return _tokens(names) - EVERYDAY_WORD_NAMES


def first_names() -> frozenset[str]:
    return _person_names()[0]


def last_names() -> frozenset[str]:
    return _person_names()[1]


@lru_cache(maxsize=1)
def person_names() -> frozenset[str]:
    """Given names and surnames in one set (built once: a union per lookup costs milliseconds)."""
    return first_names() | last_names()


@lru_cache(maxsize=1)
def clinical_terms() -> frozenset[str]:
    lines = CLINICAL_TERMS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=1)
def drug_words() -> frozenset[str]:
    """One-word drug and brand names (drug-named-entity-recognition's dictionary, from DrugBank, MeSH and
    MedlinePlus; MIT), four letters or more, without the few that are also given names or surnames ("Allegra",
    "Kendrick"). Notes capitalise drugs, so spaCy and the name rules read them as people or places."""
    import bz2
    import pickle
    from importlib.util import find_spec

    spec = find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("drug-named-entity-recognition is not installed (pip install -e .)")
    folder = Path(next(iter(spec.submodule_search_locations)))
    with bz2.open(folder / "drug_ner_dictionary.pkl.bz2", "rb") as fh:
        variants = pickle.load(fh)["drug_variant_to_canonical"]  # the package's own data file
    names = first_names() | last_names()
    return frozenset(w for w in variants if len(w) >= 4 and w.isalpha() and w not in names)


@lru_cache(maxsize=65536)
def is_clinical(word: str) -> bool:
    """A clinical term or drug name, also in the plural or possessive notes write ("ABG's", "MDs", "PAD'S")."""
    w = word.lower().strip(".'’")
    terms = clinical_terms()
    if w in terms or w in drug_words():
        return True
    if w in first_names() or w in last_names():
        return False  # "Ross" is no plural of ROS
    for suffix in ("'s", "’s", "s", "'"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 2 and w[: -len(suffix)] in terms:
            return True
    return False


MISSPELLING_MIN = 7  # shorter words have too many one-letter neighbours ("Delvis", "Lavely" are names)
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@lru_cache(maxsize=1)
def _spelling_vocabulary() -> frozenset[str]:
    """Words a note misspells: the 30k most frequent English words (wordfreq) that a dictionary spells in lower
    case (not "elvis", "greco"), clinical terms and drug names."""
    from wordfreq import top_n_list

    frequent = frozenset(top_n_list("en", 30000)) & everyday_words()
    return frequent | clinical_terms() | drug_words()


def _one_edit(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | replaces | inserts


@lru_cache(maxsize=65536)
def is_misspelling(word: str) -> bool:
    """One letter away from a frequent English word, a clinical term or a drug, and itself none of them nor a listed
    name: "Proprofol", "Moniter", "Contiue", "tranplant", "BALLON" are typing slips, not names or places."""
    w = word.lower().strip(".'’")
    if len(w) < MISSPELLING_MIN or not w.isalpha() or w in first_names() or w in last_names():
        return False
    vocabulary = _spelling_vocabulary()
    if w in vocabulary or w in everyday_words():
        return False
    return not _one_edit(w).isdisjoint(vocabulary)


@lru_cache(maxsize=1)
def everyday_words() -> frozenset[str]:
    """Words Webster's Second (english-words' web2 list) spells in lower case: "mobile", "reading", "china" are
    words, "baltimore" and "rome" are not. wordfreq cannot tell these apart: a frequent proper noun is frequent."""
    from english_words import get_english_words_set

    return frozenset(w for w in get_english_words_set(["web2"], lower=False, alpha=True) if w.islower())


SUFFIXES = (("ies", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"), ("es", ""), ("s", ""))


def _in_or_inflected(w: str, words: frozenset[str]) -> bool:
    if w in words:
        return True
    return any(w.endswith(suf) and len(w) > len(suf) + 2 and w[: -len(suf)] + base in words for suf, base in SUFFIXES)


@lru_cache(maxsize=65536)
def is_everyday(word: str) -> bool:
    """An everyday word or a regular inflection of one: web2 lists "receive" and "staple" but not "receiving",
    "staples" or "dosing"."""
    return _in_or_inflected(word.lower(), everyday_words())


@lru_cache(maxsize=65536)
def is_dictionary_word(word: str) -> bool:
    """A WordNet word or a regular inflection of one ("suctioning", "bilaterally", "urology"). Narrower than web2,
    which also lists rare words that are names in notes ("gateman", "vinny")."""
    return _in_or_inflected(word.lower(), dictionary())


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en")


def is_common(word: str) -> bool:
    """A common English word (or a clinical term): never an identifier on its own."""
    w = word.lower()
    return is_clinical(w) or zipf(w) >= COMMON_ZIPF


def name_kind(word: str) -> str | None:
    """'unambiguous' / 'ambiguous' for a word in the name lexicons, None otherwise. Clinical terms are never names."""
    w = word.lower().strip(".'")
    if len(w) < 2 or is_clinical(w) or not (w in first_names() or w in last_names()):
        return None
    if zipf(w) >= FUNCTION_ZIPF or w in EVERYDAY_WORD_NAMES:
        return None if zipf(w) >= FUNCTION_ZIPF else "ambiguous"
    in_dictionary = w in dictionary()
    if w in english_given_names():
        return "ambiguous" if in_dictionary and w not in popular_given_names() else "unambiguous"
    everyday = w in everyday_words()  # names from other languages' lists that are English words: "HUNG", "BO"
    return "ambiguous" if in_dictionary or everyday or zipf(w) >= COMMON_ZIPF else "unambiguous"


@lru_cache(maxsize=1)
def _calendar_and_language_words() -> frozenset[str]:
    """English day and month names and one-word language names: capitalised in prose, WordNet proper nouns, no
    people ("LBM on Sunday", "24 French catheter")."""
    import calendar

    import pycountry

    days = {d.lower() for d in calendar.day_name} | {m.lower() for m in calendar.month_name if m}
    return frozenset(days | {lang.name.lower() for lang in pycountry.languages if " " not in lang.name})


def is_calendar_or_language(word: str) -> bool:
    """A day, a month or a language: capitalised in prose, and no name ("Sunday", "French")."""
    return word.lower() in _calendar_and_language_words()


def names_a_person_in_prose(word: str) -> bool:
    """In mixed-case prose a capitalised lexicon name is a name when it is unambiguous, or when its only claim to
    being a word is WordNet's proper-noun entry ("Terence", "Cooke", "Turpin"): not a word Webster spells in lower
    case, and a given name or not a frequent word. Upper-case notes keep the stricter reading."""
    w = word.lower()
    kind = name_kind(w)
    if kind != "ambiguous":
        return kind == "unambiguous"
    if len(w) < 3 or w not in dictionary() or w in everyday_words() or w in _calendar_and_language_words():
        return False  # "Ab", "Sunday", "French"
    return w in english_given_names() or zipf(w) < COMMON_ZIPF


def _street_words(attrs: tuple[str, ...]) -> frozenset[str]:
    out = set()
    for loc in LOCALES:
        provider = importlib.import_module(f"faker.providers.address.{loc}").Provider
        for attr in attrs:
            for value in getattr(provider, attr, ()) or ():
                word = str(value).strip().strip("-").lower()
                if word:
                    out.add(word)
    return frozenset(out)


def _leading_street_suffixes() -> frozenset[str]:
    out = set()
    for loc in LOCALES:
        provider = importlib.import_module(f"faker.providers.address.{loc}").Provider
        formats = getattr(provider, "street_name_formats", ()) or ()
        if formats and all(str(f).startswith("{{street_suffix}}") for f in formats):
            out.update(str(v).strip().lower() for v in getattr(provider, "street_suffixes", ()) or () if str(v).strip())
    return frozenset(out)


@lru_cache(maxsize=1)
def street_types_after() -> frozenset[str]:
    """Words that end a street name (English 'Street', German '-straße', Dutch '-straat'...)."""
    return _street_words(("street_suffixes", "street_suffixes_long", "street_suffixes_short"))


@lru_cache(maxsize=1)
def street_types_before() -> frozenset[str]:
    """Words that start a street name (French 'rue', Spanish 'Calle', Italian 'Via', Portuguese 'Rua'...): Faker's
    street prefixes, and the street "suffixes" of locales whose street names put them first (Italian 'Stretto',
    'Rotonda', 'Incrocio')."""
    return (
        _street_words(("street_prefixes",))
        | _leading_street_suffixes()
        | frozenset(
            (
                "rue avenue boulevard chemin allée place impasse quai route calle avenida paseo plaza camino "
                "carretera via viale piazza corso vicolo largo strada contrada borgo rua travessa praça alameda "
                "rodovia estrada"
            ).split()
        )
    )
