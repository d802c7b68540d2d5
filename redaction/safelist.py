"""High-recall mode, in the spirit of Philter: instead of looking for identifiers, keep only what is known to be
safe. Every word that is capitalised (or, in text without case, every word) and is neither a common English word
nor a clinical term is scrubbed, and so is every number of five or more digits. Names that are also common words
("Mark", "Rose") are scrubbed when capitalised. The precision cost is measured (bench/redact_recall.py)."""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from redaction import entities as E
from redaction import lexicons
from redaction.names import document_case

_WORD = regex.compile(r"\p{L}[\p{L}'’\-]*")
_NUMBER = regex.compile(r"(?<![\d.,])\d[\d\s\-./()]{3,}\d(?![\d.,]\d)")


class SafelistRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=[E.PERSON, E.ID], name="SafelistRecognizer", supported_language="en")

    def load(self) -> None:
        pass

    @staticmethod
    def _unsafe(word: str, caseless: bool) -> bool:
        bare = word.lower().strip("'’-")
        if len(bare) < 2 or lexicons.is_clinical(bare):
            return False
        if not caseless and not word[0].isupper():
            return False
        if lexicons.name_kind(bare) is not None:
            return True
        return not lexicons.is_common(bare)

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        caseless = document_case(text) != "mixed"
        out = []
        for m in _WORD.finditer(text):
            if self._unsafe(m.group(0), caseless):
                out.append(self._result(E.PERSON, m.start(), m.end()))
        for m in _NUMBER.finditer(text):
            if sum(ch.isdigit() for ch in m.group(0)) >= 5:
                out.append(self._result(E.ID, m.start(), m.end()))
        return out

    def _result(self, label: str, start: int, end: int) -> RecognizerResult:
        return RecognizerResult(
            label, start, end, 0.5, analysis_explanation=None,
            recognition_metadata={"recognizer_name": self.name, "rule": "not_safelisted"},
        )  # fmt: skip
