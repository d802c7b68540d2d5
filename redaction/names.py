"""Person names that NER misses: foreign names, names in upper-case clinical notes ("IV NURSE VIRGINIA SALLESE"),
lower-case transcripts ("hi , martha"), doctors after a title ("DR VASCUEZ"), relatives ("DTR LAVERNE").

Evidence, from strongest to weakest:
- a word right after a title (Dr, Mrs, Herr, Mme, Sig., Dott., Dhr. ...) or a clinical role (NP, RN, RABBI) that is
  not a common word, in sloppy mixed-case notes even in lower case when it is rare ("dr. ridlon");
- an initial and its full stop before a rare or lexicon surname ("W. MAROTTA"; not "E. COLI", "S. SUCTIONED");
- after "per", an initial and a word or a given name and a surname ("per d ross", "per carol wolfe");
- a word right after a relation word (wife, son, dtr, proxy ...) or a naming cue ("my name is", "call me", "hi");
- an *unambiguous* lexicon name (a given name or surname that is not also a common English word);
- in mixed-case text, a lexicon name that what follows describes as a person (an age phrase, "is from", "grew up",
  speech after "Name:"), or that a lower-case surname particle opens ("de Barrio");
- an *ambiguous* lexicon name ("Mark", "Rose") only with one of the above or next to another name.
A found name grows over the next words that are not common words (surnames, "W." initials), and over "X and Y"
when Y is not a common word. In mixed-case text every word of a name must be capitalised; in text without case
(all upper or all lower) case carries no signal and the lexicons and context decide."""

from __future__ import annotations

from functools import lru_cache

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult

from redaction import entities as E
from redaction import lexicons

_TOKEN = regex.compile(r"\p{L}[\p{L}'’\-]*\.?")


def word_tokens(text: str) -> list[tuple[int, int, str]]:
    """(start, end, word) of every word: letters, inner apostrophes and hyphens, a trailing full stop."""
    return [(m.start(), m.end(), m.group(0)) for m in _TOKEN.finditer(text)]


_POSSESSIVE = regex.compile(r"(?i)^(\p{L}[\p{L}\-]*\p{L})['’]s$")  # "karen's", "Ernst-Otto's"
# Nouns after an eponym's possessive: "Parkinson's disease", "Bell's palsy" name a condition, not a person.
_EPONYM_NOUNS = frozenset(
    "disease diseases syndrome palsy sign signs phenomenon lymphoma ulcer ulcers esophagus sarcoma tumor tumour "
    "procedure operation maneuver manoeuvre law triad test reflex node nodes fracture classification criteria "
    "score scale solution hernia thyroiditis dementia".split()
)


_IN_LAW = regex.compile(r"(?i)-in-?law")
_WORD_PART = regex.compile(r"\p{L}[\p{L}'’]*")


def name_tokens(text: str, possessives: bool = True) -> list[tuple[int, int, str]]:
    """Word tokens with a possessive's "'s" split off, so "karen's sleep" is seen as the name "karen"; an eponym
    before a condition noun ("Crohn's disease") keeps its "'s" and is no name. A relation joined to words by
    hyphens ("DAUGHTER-KARLENE---CALLED") is separate words, as a note writer meant them. `possessives=False`
    keeps the "'s"."""
    out = []
    for start, end, word in word_tokens(text):
        parts = list(_WORD_PART.finditer(word)) if "-" in word else []
        in_law = _IN_LAW.search(word) is not None  # "son-in-law", "son-inlaw": one relation
        if len(parts) > 1 and parts[0].group(0).lower() in RELATIONS and not in_law:
            out.extend((start + p.start(), start + p.end(), p.group(0)) for p in parts)
            continue
        m = _POSSESSIVE.match(word) if possessives else None
        if m:
            after = regex.match(r"\s+(\p{L}+)", text[end : end + 30])
            if not (after and after.group(1).lower() in _EPONYM_NOUNS):
                out.append((start, start + len(m.group(1)), m.group(1)))
                continue
        out.append((start, end, word))
    return out


TITLES = frozenset(
    (
        "mr mrs ms miss mx dr prof sir madam herr frau fräulein mme mlle m sr sra srta don doña dott dott.ssa "
        "sig sig.ra ing dhr mevr drs ir lic doctor dra"
    ).split()
)
ROLES = frozenset("np rn rrt ho rabbi chaplain pastor rev".split())  # "NP CAROL", "HO Falco"; not PA: "PA LINE"
RELATIONS = frozenset(
    (
        "wife husband son daughter dtr mother mom father dad brother sister bro sis friend girlfriend "
        "boyfriend fiance fiancee partner spouse niece nephew aunt uncle grandson granddaughter grandmother "
        "grandfather proxy hcp guardian cousin neighbor neighbour kid"
    ).split()
)
# "Sons Ezra, Milo and Abel in to visit": a plural relation before a list of names
RELATIONS = RELATIONS | {w + "s" for w in RELATIONS if w not in ("bro", "sis", "dtr", "hcp", "proxy")} | {"dtrs"}
CUES = (
    "my name is",
    "name is",
    "name's",
    "named",
    "called",
    "call me",
    "this is",
    "i am",
    "i'm",
    "hi",
    "hello",
    "hey",
    "thanks",
    "thank you",
    "bye",
    "good morning",
    "good afternoon",
    "spoke with",
    "seen by",
    "page",
    "paged",
    "attending",
    "nurse",
    "staff",
    "starring",
    "featuring",
    "directed by",
    "written by",
    "said to",
    "shouted at",
    "shouted to",
    "yelled at",
    "whispered to",
    "talked to",
    "spoke to",
)
_CUE = regex.compile(r"(?<!\w)(?:" + "|".join(regex.escape(c) for c in CUES) + r")\s*[,:]?\s*$", regex.IGNORECASE)
_AND = frozenset({"and", "&", "or", "y", "und", "et", "e", "en"})
_RELATION_IN_BRACKETS = regex.compile(r"[ \t]*\([ \t]*(\p{L}+)[ \t]*\)")
# After "<initial>. <surname>" in notes, a verb of being told marks a person: "E. WELSH AWARE", "B. KING PAGED".
_TOLD = regex.compile(r"[ \t]*[:,]?[ \t]*(?:made[ \t]+)?(?:aware|notified|paged|informed|updated)\b", regex.IGNORECASE)
# After a name (and maybe a surname), the age phrase that opens a case presentation: "Amber is a 45 year old woman",
# "Vial, a 66-year-old man", "Jade was a 3 yo".
_AGE_AFTER = regex.compile(
    r"(?:[ \t]+\p{Lu}[\p{Ll}'’-]+)?(?:[ \t]+(?i:is|was)[ \t]+|,[ \t]*|[ \t]+)(?i:an?)[ \t]+\d{1,3}"
    r"(?i:[ \t-]*(?:years?|yrs?)[ \t-]*old|[ \t-]*y/?o)\b"
)
_SURNAME_PARTICLES = frozenset("van von de del della di da du ter ten".split())  # not "la", "le", "do": words too
# After a name, what only a person does: "Amber is from Ohio", "Jade grew up in Lyon", "Glen was born in 1960".
_PERSON_PREDICATE = regex.compile(
    r"[ \t]+(?:(?:is|was|comes|came)[ \t]+from|grew[ \t]+up|was[ \t]+born|lives[ \t]+in|lived[ \t]+in|"
    r"said|shouted|asked|replied|whispered|yelled|cried)\b"
)
# After a name in the possessive, what only a person has: "Amber's address", "Laurent's kid", "Ernst-Otto's wife".
_PERSONS_THING = regex.compile(
    r"['’]s[ \t]+(?:(?:home|e-?mail|phone|postal|mailing)[ \t]+)?(?:address|kids?|wife|husband|partner|mother|"
    r"father|son|daughter|brother|sister|children|parents|family|friend|birthday|number)\b"
)
# A speaker's name opening a line of a transcript, then speech: a quote or a first- or second-person word ("Maya: I'm
# ...", "Henry:\"Who are you?\""); a note's section header ("Comfort: Denies pain") is followed by neither.
_SPEAKER_COLON = regex.compile(r":[ \t]*(?:[\"“‘]|(?i:i|i'm|i've|i'll|you|we|my|me)\b)")


@lru_cache(maxsize=64)  # asked by every recognizer and by clean_spans for the same text
def document_case(text: str) -> str:
    """'upper', 'lower' or 'mixed': whether case can tell names apart in this text."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return "mixed"
    upper = sum(c.isupper() for c in letters) / len(letters)
    return "upper" if upper > 0.7 else "lower" if upper < 0.03 else "mixed"


def starts_sentence(text: str, start: int) -> bool:
    """Whether the word at `start` opens a sentence or a line, where every word is capitalised."""
    k = start - 1
    while k >= 0 and text[k] in " \t\"'“(":
        k -= 1
    return k < 0 or text[k] in ".!?:\n"


PROPER_NOUN_ZIPF = 4.0  # a capitalised word in prose is taken for a name only below ~10 uses per million words
RARE_ZIPF = 2.0  # in text without case a name needs no context only when it is this rare as an English word


def _bare(word: str) -> str:
    return word.lower().rstrip(".").strip("'’")


def usable(word: str, caseless: bool) -> bool:
    """Could be part of a name: capitalised in mixed-case text, not a common word, two letters or more."""
    bare = _bare(word)
    if len(bare) < 2 or bare in TITLES or bare in RELATIONS or bare in _AND:
        return False
    if not caseless and not word[0].isupper():
        return False
    if not caseless and word.isupper() and len(bare) <= 4 and lexicons.name_kind(bare) is None:
        return False  # "CMO", "QTC": abbreviations in mixed-case text
    return not lexicons.is_common(bare) or lexicons.name_kind(bare) is not None or double_given_name(bare) is not None


def continues_name(word: str, caseless: bool) -> bool:
    """May continue a name: a lexicon name, or (mixed case) a capitalised uncommon word, or (no case) a word
    that is rare in English. Clinical terms never continue a name. A double-barrelled word continues a name when
    each of its parts would ("SMITH-JONES")."""
    bare = _bare(word)
    parts = [p for p in word.rstrip(".").split("-") if p]
    if len(parts) > 1 and "-" not in word.rstrip(".")[-1:]:
        return all(continues_name(p, caseless) for p in parts)
    if not usable(word, caseless) or lexicons.is_clinical(bare):
        return False
    if lexicons.name_kind(bare) is not None:  # a surname after a name ("martha cooper"), even one that is a word
        return True
    return not caseless or lexicons.zipf(bare) < RARE_ZIPF


def double_given_name(bare: str) -> str | None:
    """ "Anne-Marie", "Klaus-Günter": given names joined by a hyphen are one given name ('unambiguous' when a part
    is); None when any part is no given name ("Rolls-Royce", "Baden-Baden")."""
    return _double_name(bare, lexicons.first_names())


def _double_surname(bare: str) -> str | None:
    """ "Karz-Gerlach", "Fechner-Hoffmann": a double-barrelled surname, each part a lexicon name."""
    return _double_name(bare, lexicons.person_names())


def _double_name(bare: str, names: frozenset[str]) -> str | None:
    parts = bare.split("-")
    if len(parts) < 2 or any(len(p) < 2 or p not in names for p in parts):
        return None
    kinds = [lexicons.name_kind(p) for p in parts]
    if None in kinds:
        return None
    return "unambiguous" if "unambiguous" in kinds else "ambiguous"


def _rare_name(bare: str) -> bool:
    """A lower-case word after a title that is still a name: an unambiguous lexicon name or a rare word."""
    if len(bare) < 2 or lexicons.is_clinical(bare):
        return False
    if lexicons.name_kind(bare) == "unambiguous":
        return True
    rare_word = lexicons.zipf(bare) < RARE_ZIPF
    return rare_word and not (lexicons.is_dictionary_word(bare) or lexicons.is_misspelling(bare))  # "NP suctioning"


class PersonNameRecognizer(EntityRecognizer):
    def __init__(self) -> None:
        super().__init__(supported_entities=[E.PERSON], name="PersonNameRecognizer", supported_language="en")

    def load(self) -> None:
        lexicons.first_names()  # build the lexicons once, at start-up

    def analyze(self, text: str, entities: list[str], nlp_artifacts: object = None) -> list[RecognizerResult]:
        if entities and E.PERSON not in entities:
            return []
        caseless = document_case(text) != "mixed"
        tokens = name_tokens(text)
        results: list[RecognizerResult] = []
        i = 0
        while i < len(tokens):
            score = self._seed(text, tokens, i, caseless)
            if score is None:
                i += 1
                continue
            j = self._extend(text, tokens, i, caseless)
            if j == i and self._after_per(text, tokens, i) == "initial":
                j = i + 1  # "as per E. WELSH: ...": the word after the initial, whatever it is
            elif j == i and self._initial_before_surname(text, tokens, i, caseless):
                j = self._extend(text, tokens, i + 1, caseless)  # the surname the initial stands before
            start, end = tokens[i][0], tokens[j][1]
            if text[end - 1] == "." and not (end - start == 2 or _bare(tokens[j][2]) in TITLES):
                end -= 1  # a sentence full stop, not an initial
            results.append(
                RecognizerResult(
                    E.PERSON,
                    start,
                    end,
                    score,
                    analysis_explanation=None,
                    recognition_metadata={"recognizer_name": self.name, "rule": "person_name"},
                )
            )
            i = j + 1
        return results

    def _context(self, text: str, tokens: list[tuple[int, int, str]], i: int) -> str | None:
        start = tokens[i][0]
        if i > 0:
            prev = _bare(tokens[i - 1][2])
            gap = text[tokens[i - 1][1] : start]
            if len(gap.strip(" .")) == 0 and len(gap) <= 3 and (prev in TITLES or prev in ROLES):
                return "title"  # not "MS: RECIEVD", "rn, tehn"
            if len(gap.strip(" .,:;-=")) == 0 and len(gap) <= 3 and prev in RELATIONS:
                return "relation"  # "wife Mary", "DAUGHTER-KARLENE", "SON=PAUL"
        if self._relation_after(text, tokens, i):
            return "relation"
        if _CUE.search(text[max(0, start - 24) : start]):
            return "cue"
        return None

    def _title_then_told(self, text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """A title or role, one word, then a verb of being told: the word is the name of who was told."""
        word = tokens[i][2]
        bare = _bare(word)
        if word.endswith(".") or len(bare) < 3 or not bare.isalpha() or lexicons.is_clinical(bare):
            return False
        if bare in TITLES or bare in ROLES or (lexicons.is_common(bare) and lexicons.name_kind(bare) is None):
            return False  # not "dr not aware", "ho made aware", "dr now aware"; "dr green aware" is a name
        return self._context(text, tokens, i) == "title" and bool(_TOLD.match(text, tokens[i][1]))

    @staticmethod
    def _after_per(text: str, tokens: list[tuple[int, int, str]], i: int) -> str | None:
        """After "per", notes name who gave an order or an opinion: "per d ross", "as per E. WELSH:", "per carol
        wolfe". An initial then a word ("initial"), or a given name then a lexicon surname ("name"), is that person;
        "per day", "per protocol", "per team" are neither."""
        if i == 0 or i + 1 >= len(tokens) or _bare(tokens[i - 1][2]) != "per":
            return None
        if text[tokens[i - 1][1] : tokens[i][0]] != " " or text[tokens[i][1] : tokens[i + 1][0]] != " ":
            return None
        word, nxt = tokens[i][2], _bare(tokens[i + 1][2])
        name_word = len(nxt) >= 3 and nxt.isalpha() and not lexicons.is_clinical(nxt) and nxt not in TITLES
        no_initial = word.lower() in ("a", "i", "x")  # "per a line", "per x ray"; "per A. Smith" keeps its full stop
        if len(word.rstrip(".")) == 1 and word[0].isalpha() and name_word and not no_initial:
            return "initial"
        given = _bare(word) in lexicons.first_names() and not lexicons.is_clinical(_bare(word))
        if given and name_word and lexicons.name_kind(nxt) is not None:
            return "name"
        return None

    @staticmethod
    def _proper_noun_in_prose(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """A capitalised word inside a sentence of lower-case words, not in a run of capitalised words (a title,
        "Guilty Pleasures"; a firm, "Jade Garden"), not a frequent word, and no place, day, month, language or
        clinical term."""
        start, end, word = tokens[i]
        bare = _bare(word)
        if not word[1:].islower() or len(bare) < 3 or i == 0 or starts_sentence(text, start):
            return False  # not "ROom"
        if lexicons.zipf(bare) >= PROPER_NOUN_ZIPF:
            return False  # "Transfer to Floor", "in Green chart": sloppy capitals of frequent words
        prev = tokens[i - 1][2]
        if not prev[0].islower() or text[tokens[i - 1][1] : start] != " ":
            return False
        if i + 1 < len(tokens) and tokens[i + 1][2][0].isupper() and text[end : tokens[i + 1][0]] == " ":
            return False
        from redaction.gazetteer import places

        return not (lexicons.is_clinical(bare) or lexicons.is_calendar_or_language(bare) or bare in places())

    @staticmethod
    def _after_particle(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """A lower-case surname particle right before the word, inside a sentence ("de Barrio", "van Dijk")."""
        if i == 0 or text[tokens[i - 1][1] : tokens[i][0]] != " ":
            return False
        prev = tokens[i - 1][2]
        return prev.islower() and prev in _SURNAME_PARTICLES

    @classmethod
    def _described(cls, text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """What follows the word says it is a person: an age phrase, a person's predicate or possession, or speech."""
        end = tokens[i][1]
        described = _AGE_AFTER.match(text, end) or _PERSON_PREDICATE.match(text, end) or _PERSONS_THING.match(text, end)
        return bool(described) or cls._speaks(text, tokens, i)

    @staticmethod
    def _speaks(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """A capitalised word alone at the start of a line, then a colon and speech: a transcript's speaker."""
        start, end, word = tokens[i]
        line_start = text.rfind("\n", 0, start) + 1
        if not word[0].isupper() or word.isupper() or text[line_start:start].strip():
            return False
        return bool(_SPEAKER_COLON.match(text, end))

    @staticmethod
    def _relation_after(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """The word, or the name of up to three words it starts, stands right before a relation in brackets:
        "ULLA BRANDVOLD (DAUGHTER)", "Bertram Oyelaran (son)"."""
        for k in range(i, min(i + 3, len(tokens))):
            if k > i and text[tokens[k - 1][1] : tokens[k][0]] != " ":
                return False
            found = _RELATION_IN_BRACKETS.match(text, tokens[k][1])
            if found and found.group(1).lower() in RELATIONS:
                return True
        return False

    def _seed(self, text: str, tokens: list[tuple[int, int, str]], i: int, caseless: bool) -> float | None:
        word = tokens[i][2]
        bare = _bare(word)
        after_per = self._after_per(text, tokens, i)
        if after_per:
            return 0.76 if after_per == "initial" else 0.75
        if self._title_then_told(text, tokens, i):
            return 0.8  # "dr green aware", "NP JEN AWARE": someone was told, whatever the word
        if not usable(word, caseless):
            if self._initial_before_surname(text, tokens, i, caseless):
                return 0.7  # "W. MAROTTA AWARE", "B. Kargas"
            if not caseless and word[0].islower() and self._context(text, tokens, i) == "title":
                return 0.8 if _rare_name(bare) else None  # sloppy notes: "dr. ridlon aware", "mrs cohen"
            return None
        kind = lexicons.name_kind(bare) or double_given_name(bare)
        context = self._context(text, tokens, i)
        plausible = kind is not None or not (
            lexicons.is_common(bare) or lexicons.is_dictionary_word(bare) or lexicons.is_misspelling(bare)
        )  # not "NP suctioning", "seen by urology", "HO notifed"
        if caseless and kind is None:
            plausible = plausible and lexicons.zipf(bare) < RARE_ZIPF + 1  # "DR AWARE" is no name
        if context == "title" and plausible:
            return 0.85
        if context in ("relation", "cue") and plausible and not lexicons.is_misspelling(bare):
            return 0.75  # not "husband visisted", "seen by tranplant team"
        if not caseless and kind is not None and word[0].isupper() and self._after_particle(text, tokens, i):
            return 0.7  # "my take on de Barrio", "the films of von Trier"
        if not caseless and kind is not None and word[0].isupper() and self._described(text, tokens, i):
            return 0.7  # "Amber is a 45 year old woman", "Maya: I'm ...", "Marguerite is from Lyon"
        if (
            not caseless
            and word[0].isupper()
            and word[1:].islower()
            and plausible
            and _PERSONS_THING.match(text, tokens[i][1])
        ):
            return 0.7  # "Sumaya's kid", "Wijtske's address": a word no lexicon knows, owning what only people own
        rare = lexicons.zipf(bare) < RARE_ZIPF or bare in lexicons.english_given_names()
        if kind == "unambiguous" and (not caseless or rare):
            return 0.6 if caseless else 0.7
        if not caseless and lexicons.names_a_person_in_prose(bare):
            return 0.7
        if not caseless and kind == "ambiguous" and self._proper_noun_in_prose(text, tokens, i):
            return 0.65  # "The true gender of Jade has been", "than early Hurst?"
        if kind is not None and i + 1 < len(tokens) and self._adjacent(text, tokens, i):
            # two lexicon names side by side; at least one must be unambiguous unless case marks both as names
            nxt_word = tokens[i + 1][2]
            nxt = lexicons.name_kind(_bare(nxt_word)) or (None if caseless else _double_surname(_bare(nxt_word)))
            both = nxt is not None and usable(nxt_word, caseless)
            if both and ("unambiguous" in (kind, nxt) or not caseless):
                return 0.6
        return None

    def _initial_before_surname(self, text: str, tokens: list[tuple[int, int, str]], i: int, caseless: bool) -> bool:
        """An initial with its full stop (after a title, also without: "Dr B Muse") right before a surname-like word:
        a strong sign of a name in notes."""
        word = tokens[i][2]
        titled = len(word) == 1 and word.isupper() and self._context(text, tokens, i) == "title"  # "Dr B Muse"
        if not ((len(word) == 2 and word[0].isupper() and word.endswith(".")) or titled) or i + 1 >= len(tokens):
            return False
        k = tokens[i][0]
        if k > 0 and not (text[k - 1].isspace() or text[k - 1] in "(\"'"):
            return False  # "2L. CONTD", "R>L. SUCT", "A&O. PLEASANT": not an initial
        if k > 1 and text[k - 1] == "'" and text[k - 2].isalnum():
            return False  # "90'S. HEMODY": a plural's S, not an opening quote
        if text[tokens[i][1] : tokens[i + 1][0]] != " ":
            return False
        nxt = tokens[i + 1][2]
        bare = _bare(nxt)
        if not nxt[0].isupper() or lexicons.is_clinical(bare):
            return False
        if titled:
            if lexicons.name_kind(bare) is not None:
                surname_like = True  # "DR J SMITH"
            elif caseless:
                surname_like = not lexicons.is_everyday(bare)  # not "DR B ORDERED"
            else:
                surname_like = lexicons.zipf(bare) < 5.0  # "Dr B Muse", not "Dr B Will see"
            surname_like = surname_like and not _TOLD.match(text, tokens[i][1])  # not "DR A AWARE"
            return len(bare) >= 3 and bare.isalpha() and bare not in TITLES and surname_like
        if not nxt.endswith(".") and _TOLD.match(text, tokens[i + 1][1]):
            return len(bare) >= 3  # "E. WELSH AWARE", "J. GREEN NOTIFIED": someone was told, whatever the surname
        if not usable(nxt, caseless):
            return False
        if lexicons.name_kind(bare) is not None:
            return True
        return lexicons.zipf(bare) < RARE_ZIPF + 1 and not lexicons.is_everyday(bare)  # not "S. SUCTIONED"

    @staticmethod
    def _adjacent(text: str, tokens: list[tuple[int, int, str]], i: int) -> bool:
        """The next word follows in the same name: one or two spaces, and no sentence full stop in between."""
        word = tokens[i][2]
        if word.endswith(".") and len(_bare(word)) > 1 and _bare(word) not in TITLES:
            return False
        gap = text[tokens[i][1] : tokens[i + 1][0]]
        return gap in (" ", "  ") or (gap.strip() == "" and "\n" not in gap and len(gap) <= 2)

    def _extend(self, text: str, tokens: list[tuple[int, int, str]], i: int, caseless: bool) -> int:
        j = i
        while j + 1 < len(tokens) and self._adjacent(text, tokens, j):
            nxt = tokens[j + 1][2]
            initial = len(_bare(nxt)) == 1 and nxt[0].isupper() and nxt.endswith(".")
            if initial or continues_name(nxt, caseless):
                j += 1
                continue
            break
        if j + 2 < len(tokens) and _bare(tokens[j + 1][2]) in _AND and self._adjacent(text, tokens, j):
            other = tokens[j + 2][2]
            if usable(other, caseless) and not lexicons.is_common(_bare(other)) and self._adjacent(text, tokens, j + 1):
                return j + 2
        return j
