"""What makes product copy good for this shop, measured: ROUGE against the shop's own copy, attribute coverage,
unsupported claims (materials, colours, makers, firsts / awards / patents, numbers not in the input), style-guide
compliance, and a brand-voice classifier (the shop's copy vs the base model's copy for the same products)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from core import metrics
from core.grounding import number_key, numbers_in, stated_numbers
from verticals.ecommerce.style import StyleGuide

BASE_COLOURS = [
    "black",
    "white",
    "gray",
    "grey",
    "red",
    "blue",
    "green",
    "yellow",
    "orange",
    "purple",
    "pink",
    "brown",
    "beige",
    "navy",
    "teal",
    "tan",
    "khaki",
    "olive",
    "maroon",
    "burgundy",
    "silver",
    "gold",
    "ivory",
    "cream",
    "lavender",
    "turquoise",
    "charcoal",
]
BASE_MATERIALS = [
    "cotton",
    "polyester",
    "nylon",
    "spandex",
    "wool",
    "leather",
    "suede",
    "silk",
    "linen",
    "fleece",
    "denim",
    "rayon",
    "mesh",
    "rubber",
    "plastic",
    "canvas",
    "metal",
    "steel",
    "aluminum",
    "foam",
    "hemp",
    "bamboo",
    "cashmere",
    "acrylic",
    "lycra",
    "microfiber",
    "silicone",
]
BRAND_KEYS = ("brand", "manufacturer", "maker", "make", "vendor")
# Claims a catalogue row cannot back: firsts and onlys, rankings, sales, awards, patents, tests and certificates.
# Advertising rules ask for proof of each, so copy may make one only where the product's attributes do.
CLAIM_PHRASES = re.compile(
    r"(?<!\w)(?:(?:the|world'?s|industry'?s|market'?s)\s+(?:first|only)(?!\s+(?:time|thing|things|step|day|one|way)\b)"
    r"|number\s+one|no\.\s?1|#\s?1"
    r"|best[- ]?sell(?:ing|ers?)|award[- ]winning|patent(?:ed|[- ]pending)"
    r"|(?:clinically|scientifically|dermatologist|lab(?:oratory)?)[- ](?:proven|tested)|certified)(?!\w)",
    re.IGNORECASE,
)
CLAIM_WORDS = frozenset({"patented", "bestselling", "bestseller", "bestsellers", "certified"})  # one word each
# The two-word claims as grounded decoding refuses them: the second word right after the first ("the first" also
# when it would go on as "the first time": decoding cannot see ahead; a claim's other forms are scored only).
CLAIM_PAIRS = frozenset(
    {
        ("the", "first"),
        ("the", "only"),
        ("number", "one"),
        ("best", "selling"),
        ("best", "seller"),
        ("award", "winning"),
        ("patent", "pending"),
        ("clinically", "proven"),
        ("clinically", "tested"),
        ("scientifically", "proven"),
        ("dermatologist", "tested"),
        ("lab", "tested"),
    }
)


def values_of(attributes: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for value in attributes.values():
        out.extend(str(v) for v in (value if isinstance(value, list) else [value]))
    return out


def mentions(text: str, phrase: str) -> bool:
    """Whether the text holds the phrase's words in order, anything but word characters between them."""
    words = metrics.words(phrase)
    if not words:
        return False
    return re.search(r"\b" + r"\W+".join(map(re.escape, words)) + r"\b", text.lower()) is not None


def coverable_values(attributes: dict[str, Any], skip: Iterable[str] = ("price", "category")) -> list[str]:
    """The attribute values copy is expected to mention (a price or a category path is not copy)."""
    vals = [v for k, vs in attributes.items() if k not in skip for v in (vs if isinstance(vs, list) else [vs])]
    return [str(v) for v in vals if str(v).strip()]


def coverage(copy: str, attributes: dict[str, Any], skip: Iterable[str] = ("price", "category")) -> float | None:
    vals = coverable_values(attributes, skip)
    return sum(mentions(copy, v) for v in vals) / len(vals) if vals else None


def mentioned_attributes(copy: str, attributes: dict[str, Any], required: Iterable[str] = ("name",)) -> dict[str, Any]:
    """Which given attribute values one piece of copy mentions (for the report and the demo), and the share of
    the required ones it mentions."""
    found = {k: [str(v) for v in (vs if isinstance(vs, list) else [vs]) if mentions(copy, str(v))]
             for k, vs in attributes.items()}  # fmt: skip
    req = [k for k in required if attributes.get(k)]
    share = sum(bool(found.get(k)) for k in req) / len(req) if req else 1.0
    return {"mentioned": {k: v for k, v in found.items() if v}, "required_share": share}


def unsupported_claims(copy: str, attributes: dict[str, Any], lexicon: dict[str, set[str]]) -> list[str]:
    """Materials/colours named in the copy but absent from the input, another maker's name (the catalogue's
    brands, written capitalised, that the input does not name: "Sony" in the copy of a Nokia phone), a claim that
    needs proof the input does not give ("the first", "best-selling", "patented"), and numbers the input does not
    state: a model number's digits are no measure ("1234 feet" for model bar1234)."""
    source = " ".join(values_of(attributes))
    source_words = set(metrics.words(source.lower()))
    claims: list[str] = []
    copy_words = metrics.words(copy)
    for kind, words in lexicon.items():
        if kind == "brand":
            continue
        for w in sorted({w for w in copy_words if w in words}):
            if w not in source_words:
                claims.append(f"{kind}:{w}")
    for brand in sorted(lexicon.get("brand", ())):
        if _names_brand(copy, brand) and not mentions(source, brand):
            claims.append(f"brand:{brand}")
    for phrase in claim_phrases(copy):
        if not mentions(source, phrase):
            claims.append(f"claim:{phrase}")
    source_numbers = numbers_in(source)
    for n in stated_numbers(copy):
        if number_key(n) not in source_numbers:
            claims.append(f"number:{n}")
    return claims


def claim_phrases(copy: str) -> list[str]:
    """The claims of CLAIM_PHRASES in the copy, as written (one space between words), each once."""
    return list(dict.fromkeys(" ".join(m.group(0).split()) for m in CLAIM_PHRASES.finditer(copy)))


def _names_brand(copy: str, brand: str) -> bool:
    """The brand's words in a row, each written with a capital as a name is ("Western Digital", "BlackBerry",
    "LG"), not the common word some brand names are ("nine west-facing windows")."""
    words = brand.split()
    parts = [re.escape(w[0].upper()) + "(?i:" + re.escape(w[1:]) + ")" for w in words]
    return bool(words) and re.search(r"\b" + r"\W+".join(parts) + r"\b", copy) is not None


_BULLET = re.compile(r"^\s*(?:[-•*]|\d+[.)])\s*")


def line_spans(copy: str) -> list[tuple[int, list[str]]]:
    """The lines of a piece of copy (newlines, bullet items and sentences) as (character offset where the line
    starts: its bullet for the first sentence of a bullet line, its own first letter otherwise, its words); lines
    without words are left out."""
    spans = []
    offset = 0
    for line in copy.splitlines(keepends=True):
        body = _BULLET.match(line)
        start = offset + (body.end() if body else 0)
        text = copy[start : offset + len(line.rstrip("\r\n"))]
        for n, part in enumerate(re.finditer(r"\S.*?(?:[.!?](?=\s)|$)", text)):
            words = re.findall(r"[a-z0-9]+", part.group().lower())
            if words:
                spans.append((offset if n == 0 else start + part.start(), words))
        offset += len(line)
    return spans


def copy_lines(copy: str) -> list[list[str]]:
    """The lines of a piece of copy (newlines, bullet items and sentences), each as its words."""
    return [words for _, words in line_spans(copy)]


def first_repeated_line(copy: str, overlap: float = 0.8) -> int | None:
    """Character offset of the first line that says again what an earlier line said (see same_line), or None."""
    seen: list[set[str]] = []
    for start, words in line_spans(copy):
        current = set(words)
        if any(same_line(earlier, current, overlap) for earlier in seen):
            return start
        seen.append(current)
    return None


def repeats_a_line(copy: str, overlap: float = 0.8) -> bool:
    """True when two lines of one answer say the same thing ("Machine wash/dry." / "Machine wash."): equal word
    sets, one contained in the other, or a word overlap (Jaccard) of `overlap` or more."""
    return first_repeated_line(copy, overlap) is not None


def same_line(a: set[str], b: set[str], overlap: float = 0.8) -> bool:
    """Two lines (as word sets) say the same thing: equal, one contained in the other (>= 2 words each), or a
    word overlap (Jaccard) of `overlap` or more."""
    if a == b or (min(len(a), len(b)) >= 2 and (a <= b or b <= a)):
        return True
    return bool(a | b) and len(a & b) / len(a | b) >= overlap


def style_checks(copy: str, attributes: dict[str, Any], style: StyleGuide) -> dict[str, bool]:
    n = len(copy.split())
    lo, hi = style.length_words
    lower = copy.lower()
    return {
        "no_banned_words": not any(mentions(lower, b) or b.lower() in lower.split() for b in style.banned_words),
        "length_ok": lo <= n <= hi,
        "required_mentions": all(
            mentions(copy, str(attributes[k])) for k in style.required_mentions if attributes.get(k)
        ),
    }


class BrandVoice:
    """TF-IDF + logistic regression: the brand's own copy (label 1) vs the base model's copy for the same kind of
    products (label 0). Its cross-validated accuracy is reported: a voice score from a classifier that cannot
    tell the two apart would mean nothing."""

    def __init__(self) -> None:
        self.model: Any = None
        self.accuracy: float | None = None
        self.trained_on: dict[str, int] = {}

    def fit(self, brand_texts: Sequence[str], base_texts: Sequence[str], seed: int = 0) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import cross_val_score
        from sklearn.pipeline import make_pipeline, make_union

        if not brand_texts or not base_texts:
            raise ValueError("the brand-voice classifier needs brand copy and base-model copy")
        texts = [*brand_texts, *base_texts]
        labels = [1] * len(brand_texts) + [0] * len(base_texts)
        features = make_union(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, min_df=2),
        )
        self.model = make_pipeline(features, LogisticRegression(max_iter=2000, C=4.0, random_state=seed))
        folds = min(5, len(brand_texts), len(base_texts))
        if folds >= 2:
            self.accuracy = float(cross_val_score(self.model, texts, labels, cv=folds).mean())
        self.model.fit(texts, labels)
        self.trained_on = {"brand": len(brand_texts), "base_model": len(base_texts)}

    def per_example(self, texts: Sequence[str | None]) -> list[int] | None:
        """1 where the classifier takes an output for the brand's own copy (an empty output counts as not)."""
        if self.model is None:
            return None
        present = [i for i, t in enumerate(texts) if t]
        out = [0] * len(texts)
        if present:
            for i, label in zip(present, self.model.predict([texts[i] for i in present]), strict=True):
                out[i] = int(label)
        return out

    def score(self, texts: Sequence[str | None]) -> float | None:
        """Share of outputs the classifier takes for the brand's own copy."""
        flags = self.per_example(texts) if texts else None
        return float(sum(flags)) / len(flags) if flags else None
