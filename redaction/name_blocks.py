"""Whole person names, not pieces of them. NER and the name recognizer often find "Maria Tuzzolino" in
"Sig.ra Maria Tuzzolino" or "Lois van den Brink" in "Lois van den Brink-Bernaards". A found name therefore
grows to the whole words it touches (a hyphenated surname is one name); in mixed-case text, where case tells
a name from a word, also backward over titles ("Dr.", "Univ.Prof.", "Sig.ra") and given names, and forward
over following surnames (capitalised, uncommon or a lexicon name); in any text forward over name particles
before a name ("van den", "le", "du") and over degree suffixes ("B.Sc.", "PhD", "Jr."). Names listed together are
all names ("Ford, Sanchez and Lynch")."""

from __future__ import annotations

from collections.abc import Sequence

import regex

from redaction import entities as E
from redaction import lexicons
from redaction.names import RELATIONS, TITLES, continues_name, double_given_name, name_tokens
from redaction.spans import Span, touching, union_overlaps

TITLE_PARTS = TITLES | frozenset("univ dipl ra ssa mag dr.-ing priv doz".split())
PARTICLES = frozenset("van von den der de du le la da das do dos del della di ter ten zu 't y".split())
SUFFIXES = frozenset("b a sc m ba bsc msc ma md phd dds dvm rn jr sr ii iii iv mba llm esq mphil dphil".split())
MAX_WORDS = 5  # growth per direction
_JOIN = regex.compile(r"(?:,|,? (?:and|&|or)) ")  # between the members of a list of names


def _bare(word: str) -> str:
    return word.lower().rstrip(".").strip("'’-")


def _near(text: str, a_end: int, b_start: int, allow_comma: bool = False) -> bool:
    gap = text[a_end:b_start]
    return gap in (" ", "-", "") or (allow_comma and gap == ", ")


def grow(text: str, start: int, end: int, caseless: bool, tokens: list[tuple[int, int, str]]) -> tuple[int, int]:
    """The whole name around text[start:end]."""
    inside = touching(tokens, start, end)
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    j = last
    while j + 1 < len(tokens) and j - last < MAX_WORDS:
        word, nxt = tokens[j][2], tokens[j + 1]
        if _sentence_stop(word):
            break
        bare = _bare(nxt[2])
        suffix = bare in SUFFIXES and nxt[2][0].isupper() and (len(bare) > 1 or nxt[2].endswith("."))
        if suffix and _near(text, tokens[j][1], nxt[0], allow_comma=True):  # "B.", "Sc.", "PhD" - not a lone "A"
            j += 1
            continue
        if not _near(text, tokens[j][1], nxt[0]):
            break
        k = _after_particles(text, tokens, j + 1)
        if k > j + 1 and k < len(tokens):
            after = tokens[k][2]
            if after[0].isupper() and _name_word(after, caseless):
                j = k
                continue
        if not caseless and _name_word(nxt[2], caseless):
            j += 1
            continue
        break
    i = first
    while i > 0 and first - i < MAX_WORDS and not caseless:  # upper-case "MS", "MR" are sclerosis, regurgitation
        prev = tokens[i - 1]
        if not _near(text, prev[1], tokens[i][0]):
            break
        if _bare(prev[2]) in TITLE_PARTS or (prev[2][0].isupper() and continues_name(prev[2], caseless)):
            i -= 1
            continue
        if _leading_particle(prev[2]) and tokens[first][2][0].isupper():  # "de Koning", "van der Laan", "d' Heripon"
            i -= 1
            continue
        break
    new_end = max(end, tokens[j][1] - (1 if _sentence_stop(tokens[j][2]) else 0))
    return tokens[i][0], new_end


def _after_particles(text: str, tokens: list[tuple[int, int, str]], k: int) -> int:
    """The token after a run of up to three name particles starting at k ("van den", "de la"), or k if none."""
    start = k
    while k < len(tokens) and k - start < 3 and _bare(tokens[k][2]) in PARTICLES:
        if k + 1 >= len(tokens) or not _near(text, tokens[k][1], tokens[k + 1][0]):
            return start
        k += 1
    return k


def _name_word(word: str, caseless: bool) -> bool:
    """A word that may continue a name; a double-barrelled surname may hold particles ("Broek-van")."""
    parts = [p for p in word.split("-") if p]
    if len(parts) > 1 and any(_bare(p) in PARTICLES for p in parts[1:]):
        return all(_bare(p) in PARTICLES or continues_name(p, caseless) for p in parts[1:]) and continues_name(
            parts[0], caseless
        )
    return continues_name(word, caseless)


def _leading_particle(word: str) -> bool:
    """A particle written in lower case that may open a surname ("van", "de", "d'"); "y" and "la" alone join two
    names rather than open one, but "de la" is reached word by word."""
    return word.islower() and (_bare(word) in PARTICLES - {"y", "'t"} or word in ("d'", "d’"))


def _sentence_stop(word: str) -> bool:
    return word.endswith(".") and len(_bare(word)) > 2 and _bare(word) not in SUFFIXES


def grow_names(text: str, spans: Sequence[Span], caseless: bool) -> list[Span]:
    """Spans with every person span grown to the whole name; spans the name swallows merge into it."""
    if not any(s.label == E.PERSON for s in spans):
        return list(spans)
    tokens = name_tokens(text, possessives=False)  # "DAUGHTER-KARLENE": the name does not grow into the relation
    grown = []
    for s in spans:
        if s.label == E.PERSON:
            start, end = grow(text, s.start, s.end, caseless, tokens)
            s = Span(min(start, s.start), end, s.label, s.score)
        grown.append(s)
    return union_overlaps(grown, lambda prev, s: prev.label)


def _given_name_taken_for_place(text: str, span: Span) -> bool:
    """A one-word place that is a given name ("Camila", "Noa"): among found persons it is a person too."""
    value = text[span.start : span.end]
    return span.label == E.LOCATION and " " not in value and value.lower() in lexicons.first_names()


def coordinated_names(text: str, spans: Sequence[Span]) -> list[Span]:
    """Mixed-case text: names listed together are all names. In a list of capitalised words joined by commas and
    "and" ("our founders: Ford, Sanchez and Lynch", "Costa, Ana Lima and Rui Melo"), every member that is a lexicon
    name is a person when one member already is, or when the list holds three or more lexicon names and nothing
    else. A list that touches a place or any other found span is left alone ("Paris, Lyon and Nice")."""
    tokens = name_tokens(text, possessives=False)
    runs: list[list[int]] = []
    for k, (start, _end, word) in enumerate(tokens):
        if not word[0].isupper() or word.isupper() or _bare(word) in RELATIONS | TITLE_PARTS:
            continue  # not "Son, David updated"
        if runs and _JOIN.fullmatch(text, tokens[runs[-1][-1]][1], start):
            runs[-1].append(k)
        else:
            runs.append([k])
    out = list(spans)
    for run in runs:
        if len(run) < 2:
            continue
        found = [[s for s in spans if s.start < tokens[k][1] and s.end > tokens[k][0]] for k in run]
        persons = sum(any(s.label == E.PERSON for s in hits) for hits in found)
        if any(
            s.label != E.PERSON and not (persons >= 2 and _given_name_taken_for_place(text, s))
            for hits in found
            for s in hits
        ):
            continue
        named = [
            bool(hits)
            or (lexicons.name_kind(_bare(tokens[k][2])) or double_given_name(_bare(tokens[k][2]))) is not None
            for k, hits in zip(run, found, strict=True)
        ]
        person = any(found) and sum(named) >= 2
        if not (person or (len(run) >= 3 and all(named))):
            continue
        for k, hits, is_name in zip(run, found, named, strict=True):
            if is_name and not hits:
                start, end, word = tokens[k]
                out.append(Span(start, end - (1 if word.endswith(".") and len(_bare(word)) > 1 else 0), E.PERSON, 0.6))
    return sorted(out, key=lambda s: (s.start, s.end))
