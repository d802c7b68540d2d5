"""Whole address blocks, not pieces of them. The street, postcode and town recognizers each find a part of
"Stretto Pace, 387 Piano 7 / 38079, Bolbeno (TN)"; what lies between and around them (the house number, the
province code, a town no list knows) is as identifying as the parts. A found street, unit or postcode therefore
grows over the neighbouring words an address is made of: numbers, capitalised words that are not everyday
function words, short upper-case codes, name particles and unit words, joined by commas, slashes, brackets,
bars or one line break. Growth stops at a sentence full stop, a colon, a lower-case word or a frequent word
("Please", "Phone"), and happens only in mixed-case text, where case tells a name from a word."""

from __future__ import annotations

from collections.abc import Sequence

import regex

from redaction import entities as E
from redaction import lexicons
from redaction.spans import Span, touching, union_overlaps

MAX_FORWARD, MAX_BACKWARD, MAX_LINE_BREAKS = 12, 6, 3
FUNCTION_ZIPF = 5.0  # "The", "Please", "Phone", "Call": frequent enough to end an address
TRIGGERS = frozenset({E.ADDRESS, E.ZIP})
PARTICLES = frozenset("de da das di del della do dos du des la le 't van von der den y e".split())
UNITS = frozenset(
    "apt apartment unit suite ste flat floor fl piso puerta piano appartamento interno box bus wohnung "
    "apto bloco casa lote".split()
)
_TOKEN = regex.compile(r"\d[\d/\-ªº°]*(?:\p{L}(?!\p{L}))?|\p{L}[\p{L}'’\-]*\.?|'t")
_GAP = regex.compile(r"^[ \t]*(?:[,|/()\-–][ \t]*){0,2}(?:\n[ \t]*)?(?:[,|/()\-–][ \t]*){0,2}$")


def _address_word(word: str, nxt: str | None) -> bool:
    bare = word.rstrip(".").lower()
    if word[0].isdigit():
        return len(word) <= 10
    if bare in UNITS:
        return True
    if bare in PARTICLES:
        return nxt is not None and nxt[:1].isupper()
    if not word[0].isupper():
        return False
    if word.isupper() and len(bare) <= 3:
        return True  # "TN", "OH", "NE4"
    return lexicons.zipf(bare) < FUNCTION_ZIPF


def _tokens(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]


def _joined(text: str, a_end: int, b_start: int) -> bool:
    gap = text[a_end:b_start]
    return bool(_GAP.match(gap)) and "." not in gap


def grow(text: str, start: int, end: int, tokens: list[tuple[int, int, str]] | None = None) -> tuple[int, int]:
    """The address block around text[start:end]: the span grown over the address words beside it."""
    tokens = _tokens(text) if tokens is None else tokens
    inside = touching(tokens, start, end)
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    breaks = 0
    j = last
    while j + 1 < len(tokens) and j - last < MAX_FORWARD:
        nxt_tok = tokens[j + 1]
        if not _joined(text, tokens[j][1], nxt_tok[0]) or (tokens[j][2].endswith(".") and len(tokens[j][2]) > 4):
            break
        after = tokens[j + 2][2] if j + 2 < len(tokens) else None
        if not _address_word(nxt_tok[2], after):
            break
        breaks += "\n" in text[tokens[j][1] : nxt_tok[0]]
        if breaks > MAX_LINE_BREAKS:
            break
        j += 1
    i = first
    while i > 0 and first - i < MAX_BACKWARD:
        prev = tokens[i - 1]
        if not _joined(text, prev[1], tokens[i][0]) or prev[2].endswith("."):
            break
        if not _address_word(prev[2], tokens[i][2]):
            break
        breaks += "\n" in text[prev[1] : tokens[i][0]]
        if breaks > MAX_LINE_BREAKS:
            break
        i -= 1
    new_end = tokens[j][1] - (1 if j > last and tokens[j][2].endswith(".") and len(tokens[j][2]) > 4 else 0)
    return min(start, tokens[i][0]), max(end, new_end)


_POSTCODE_AFTER_PLACE = regex.compile(
    r"[ \t]*,?[ \t]*(\d{5}(?:-?\d{3})?|[1-9]\d{3}[ \t]?[A-Z]{2})(?![\w.,/:%\-])(?![ \t]*(?i:mg|ml|cc|mcg|units?)\b)"
)


# The last line of an address block: a town, region or country written as a name, then its postcode
# ("Nouvelle Calédonie 04260", ">Biélorussie 76685").
_POSTCODE_LINE = regex.compile(r"(?m)^[ \t>]*\p{Lu}[\p{L}.'’()\- ]*?[ \t]+(\d{5}(?:-?\d{3})?|\d{8})[ \t]*$")
BLOCK_REACH = 80  # characters above such a line within which a found address, place or name part must end
_BLOCK_PARTS = frozenset({E.ADDRESS, E.LOCATION, E.PERSON, E.ZIP})


def _postcodes_ending_blocks(text: str, spans: Sequence[Span]) -> list[Span]:
    """Postcodes that close an address block: the line is a name and a number, and a found part of the address
    (street, place, person) ends on the lines just above it."""
    out = []
    for m in _POSTCODE_LINE.finditer(text):
        line_start = m.start()
        above = [s for s in spans if s.label in _BLOCK_PARTS and line_start - BLOCK_REACH <= s.end <= line_start]
        if above and not any(s.start < m.end(1) and m.start(1) < s.end for s in spans):
            out.append(Span(m.start(1), m.end(1), E.ZIP, max(s.score for s in above)))
    return out


def postcodes_after_places(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans plus the postcode written right after a found place ("Saint Céline 82797", "Horn 3493 EP"): five to
    eight digits or a Dutch code, so a year ("Boston 2019") is not taken. After a town NER took for a person, the
    number is as identifying, so person spans count as places here. And a postcode that closes an address block on
    its own line ("...\n Nouvelle Calédonie 04260"). For mixed-case text only."""
    out = list(spans)
    for s in spans:
        if s.label not in (E.LOCATION, E.ADDRESS, E.PERSON):
            continue
        m = _POSTCODE_AFTER_PLACE.match(text, s.end)
        if m and not any(o.start < m.end(1) and m.start(1) < o.end for o in spans):
            out.append(Span(m.start(1), m.end(1), E.ZIP, s.score))
    out.extend(
        s for s in _postcodes_ending_blocks(text, out) if not any(o.start < s.end and s.start < o.end for o in out)
    )
    return sorted(out, key=lambda sp: (sp.start, sp.end))


def grow_blocks(text: str, spans: Sequence[Span]) -> list[Span]:
    """Spans with every street / postcode span grown to its block; spans the block swallows merge into it."""
    if not any(s.label in TRIGGERS for s in spans):
        return list(spans)
    tokens = _tokens(text)
    grown = []
    for s in spans:
        if s.label in TRIGGERS:
            start, end = grow(text, s.start, s.end, tokens)
            label = s.label if (start, end) == (s.start, s.end) else E.ADDRESS  # a postcode grown to its block
            s = Span(start, end, label, s.score)
        grown.append(s)
    return union_overlaps(grown, _address_label)


def _address_label(prev: Span, s: Span) -> str:
    return prev.label if prev.label in TRIGGERS or s.label not in TRIGGERS else s.label
