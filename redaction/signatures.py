"""Signature lines of nursing notes: a line that is only a name and a credential ("irene snell, rn",
"HERMAN W. EMPERATRICE, RRT") is the author's name, whatever the case of the note. The rest of the name
recognizer needs a capital, a title or a cue, which such lines often lack; the credential is the cue here."""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from redaction import entities as E
from redaction import lexicons
from redaction.names import RARE_ZIPF

CREDENTIALS = "rn|r\\.n\\.|rrt|crt|licsw|lcsw|msw|np|ccrn|bsn|lpn|cna|pa-c|rn,?[ \\t]*bsn|rn,?[ \\t]*ccrn"
_LINE = regex.compile(
    r"^[ \t]*(?P<name>(?:\p{L}[\p{L}'’\-]+|\p{Lu}\.)(?:[ \t]+(?:\p{L}[\p{L}'’\-]+|\p{Lu}\.)){1,3})"
    rf"[ \t]*,?[ \t]*(?:{CREDENTIALS})\.?[ \t]*$",
    regex.IGNORECASE | regex.MULTILINE,
)
_WORD = regex.compile(r"\p{L}[\p{L}'’\-]+")


def _name_like(word: str) -> bool:
    """A word that may be part of a person's name: a lexicon name, or a rare word that is no clinical term."""
    bare = word.lower()
    if lexicons.is_clinical(bare):
        return False
    return lexicons.name_kind(bare) is not None or (
        lexicons.zipf(bare) < RARE_ZIPF + 1 and not lexicons.is_common(bare)
    )


class SignatureLineRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=[E.PERSON], name="SignatureLineRecognizer", supported_language="en")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        if entities and E.PERSON not in entities:
            return []
        results = []
        for m in _LINE.finditer(text):
            words = _WORD.findall(m.group("name"))
            if not words or not all(_name_like(w) for w in words):
                continue  # "CONTINUE TO MONITOR, RN" is no signature
            results.append(
                RecognizerResult(
                    E.PERSON,
                    m.start("name"),
                    m.end("name"),
                    0.85,
                    analysis_explanation=None,
                    recognition_metadata={"recognizer_name": self.name, "rule": "signature_line"},
                )
            )
        return results
