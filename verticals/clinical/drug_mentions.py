"""Drug names said in a visit, found with a drug dictionary (drug-named-entity-recognition: DrugBank, MeSH and
MedlinePlus names and brands, one or two words; MIT). The pack can show them to the model as a hint line
(option `drug_hints`): a 135M model reading a 10-minute dialogue misses the one word that names a drug, while
choosing which of three named drugs the patient takes is a smaller task. The hint lists what the text says, in
the text's own words; it never adds a drug the text does not name."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9']*")  # "Tylenol-3" -> Tylenol, 3


@lru_cache(maxsize=1)
def _finder() -> Any:
    try:
        from drug_named_entity_recognition import find_drugs
    except ModuleNotFoundError:
        raise ModuleNotFoundError("drug-named-entity-recognition is not installed (pip install -e .)") from None
    return find_drugs


def drug_mentions(text: str) -> list[str]:
    """The drug names the text says, lower case, each once, in order of first mention ("Norvasc 5 mg and
    lisinopril" -> ["norvasc", "lisinopril"]). Two-word names ("fish oil", "vitamin d") win over their parts."""
    words = [m.group(0).strip("'") for m in _WORD.finditer(text)]
    words = [w for w in words if w]
    if not words:
        return []
    found = _finder()(words, is_ignore_case=True)
    spans = sorted({(start, end) for _, start, end in found}, key=lambda s: (s[0], -(s[1] - s[0])))
    names: dict[str, None] = {}
    covered_until = -1
    for start, end in spans:
        if start < covered_until:
            continue  # a part of a longer name already taken
        names.setdefault(" ".join(words[start:end]).lower(), None)
        covered_until = end
    return list(names)


def hint_line(text: str) -> str:
    """The line appended to the visit text when the pack's drug_hints option is on."""
    names = drug_mentions(text)
    return "Drug names in the text: " + (", ".join(names) if names else "none")
