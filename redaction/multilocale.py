"""PII test sentences that were not written with the recognizers: presidio-evaluator's public sentence templates
(shared/data/pii/presidio_evaluator_templates/templates.txt, MIT) filled by this module's own Faker-based generator
with names, addresses, phone numbers, dates and account numbers from eight locales, with exact gold spans.

Splits are frozen by template: a template's SHA-256 decides dev (tuning) or held-out (reporting), so held-out
sentences have sentence structures no recognizer change was tried on.

python -m redaction.multilocale TEMPLATES -n 3000 --seed 13 -o generated.jsonl
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from redaction import entities as E

LOCALES = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "nl_NL", "it_IT", "pt_BR")
HELD_OUT_SHARE = 0.3
_PLACEHOLDER = re.compile(r"{{\s*(\w+)\s*}}")

# placeholder -> (our label or None for "not an identifier we score", value maker)
Maker = Callable[[Any, random.Random], str]


def _age(f: Any, rng: random.Random) -> str:
    return str(rng.randint(18, 99))


def _date(f: Any, rng: random.Random) -> str:
    d = f.date_between(start_date="-80y", end_date="+1y")
    formats = ["%d/%m/%Y", "%m/%d/%Y", "%Y-%m-%d", "%d.%m.%Y", "%B %d, %Y", "%d %B %Y", "%b %d", "%d-%m-%y", "%m/%d"]
    return d.strftime(rng.choice(formats))


def _address(f: Any, rng: random.Random) -> str:
    return re.sub(r"\s*\n\s*", rng.choice([", ", " ", "\n"]), f.address())


# Addresses composed from their parts in the orders people and forms write them, beside Faker's own per-locale
# formats: a unit after the street, a town then a state or a country, a postcode last, parts on lines of their own.
COMPOSED_ADDRESS_FORMATS = (
    "{building} {street} {unit} {city} {state}",
    "{building} {street} {unit}, {city}, {country}",
    "{building} {street}\n {unit}\n {city}\n {country} {postcode}",
    "{street} {building}, {postcode} {city}, {country}",
    "{street_address}\n{city}, {state} {postcode}",
    "{street_address}\n{city}\n, {state}\n {postcode}",
    "{street_address} {unit}, {city}, {country} {postcode}",
    "{street_address}, {city}, {country}",
)


_PART_METHODS = {
    "building": "building_number",
    "street": "street_name",
    "street_address": "street_address",
    "unit": "secondary_address",
    "city": "city",
    "state": "state_abbr",
    "country": "country",
    "postcode": "postcode",
}


def _composed_address(f: Any, rng: random.Random) -> str:
    """An address built from the locale's parts in one of COMPOSED_ADDRESS_FORMATS (en_US parts where the locale
    has none: states, units)."""
    parts = {name: _safe(method)(f, rng) for name, method in _PART_METHODS.items()}
    return rng.choice(COMPOSED_ADDRESS_FORMATS).format(**parts)


def _mixed_address(f: Any, rng: random.Random) -> str:
    """As `_composed_address`, each part from a locale of its own (a Dutch street in an Italian town, a Brazilian
    postcode): addresses that match no one country's rules."""
    parts = {}
    for name, method in _PART_METHODS.items():
        other = _locale_faker(rng.choice(LOCALES))
        other.seed_instance(rng.randint(0, 2**31))
        parts[name] = _safe(method)(other, rng)
    return rng.choice(COMPOSED_ADDRESS_FORMATS).format(**parts)


@lru_cache(maxsize=len(LOCALES))
def _locale_faker(locale: str) -> Any:
    from faker import Faker

    return _stable(Faker(locale))


def _phone(f: Any, rng: random.Random) -> str:
    return f.phone_number()


def _card(f: Any, rng: random.Random) -> str:
    number = f.credit_card_number()
    if rng.random() < 0.4:
        number = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def _safe(method: str, fallback: str = "en_US") -> Maker:
    """A provider method of the document's locale, or of `fallback` where that locale lacks it."""

    def make(f: Any, rng: random.Random) -> str:
        try:
            return str(getattr(f, method)())
        except AttributeError:
            from faker import Faker

            other = Faker(fallback)
            other.seed_instance(rng.randint(0, 2**31))
            return str(getattr(other, method)())

    return make


PLACEHOLDERS: dict[str, tuple[str | None, Maker]] = {
    "person": (E.PERSON, _safe("name")),
    "name": (E.PERSON, _safe("name")),
    "name_male": (E.PERSON, _safe("name_male")),
    "name_female": (E.PERSON, _safe("name_female")),
    "first_name": (E.PERSON, _safe("first_name")),
    "first_name_male": (E.PERSON, _safe("first_name_male")),
    "first_name_female": (E.PERSON, _safe("first_name_female")),
    "first_name_nonbinary": (E.PERSON, _safe("first_name_nonbinary")),
    "last_name": (E.PERSON, _safe("last_name")),
    "last_name_male": (E.PERSON, _safe("last_name_male")),
    "last_name_female": (E.PERSON, _safe("last_name_female")),
    "address": (E.ADDRESS, _address),
    "street_name": (E.ADDRESS, _safe("street_name")),
    "building_number": (E.ADDRESS, _safe("building_number")),
    "secondary_address": (E.ADDRESS, _safe("secondary_address")),
    "postcode": (E.ZIP, _safe("postcode")),
    "zipcode": (E.ZIP, _safe("postcode")),
    "phone_number": (E.PHONE, _phone),
    "email": (E.EMAIL, _safe("email")),
    "url": (E.URL, _safe("url")),
    "ip_address": (E.IP, _safe("ipv4")),
    "credit_card_number": (E.ACCOUNT, _card),
    "iban": (E.ACCOUNT, _safe("iban")),
    "ssn": (E.SSN, _safe("ssn")),
    "us_driver_license": (E.ID, lambda f, rng: f"{rng.choice('ABCDEFGHJKLMNPRSTW')}{rng.randint(1000000, 99999999)}"),
    "date_time": (E.DATE, _date),
    "date_of_birth": (E.DATE, _date),
    "age": (E.AGE, _age),
    "city": (E.LOCATION, _safe("city")),
    "country": (E.LOCATION, _safe("country")),
    "state_abbr": (E.LOCATION, _safe("state_abbr")),
    "year": (None, lambda f, rng: str(rng.randint(1950, 2030))),
    "organization": (None, _safe("company")),
    "nationality": (None, lambda f, rng: rng.choice(["German", "French", "Dutch", "Italian", "Brazilian", "British"])),
    "nation_woman": (None, lambda f, rng: rng.choice(["German", "French", "Spanish", "Italian"])),
    "nation_plural": (None, lambda f, rng: rng.choice(["Germans", "French", "Spaniards", "Italians"])),
    "job": (None, _safe("job")),
    "prefix": (None, _safe("prefix")),
    "prefix_male": (None, _safe("prefix_male")),
    "prefix_female": (None, _safe("prefix_female")),
    "day_of_week": (None, _safe("day_of_week")),
}


def read_templates(path: str | Path) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip()]


def template_split(template: str) -> str:
    digest = hashlib.sha256(template.encode("utf-8")).digest()
    return "held_out" if int.from_bytes(digest[:8], "big") / 2**64 < HELD_OUT_SHARE else "dev"


def fill(
    template: str, faker: Any, rng: random.Random, placeholders: dict[str, tuple[str | None, Maker]] | None = None
) -> dict[str, Any]:
    """One sentence with exact spans. Ages count as identifiers only over 89 (HIPAA); everything else a
    placeholder maps to keeps its label, and unscored placeholders (organisations, jobs) keep None."""
    text, spans, cursor = [], [], 0
    out_len = 0
    for m in _PLACEHOLDER.finditer(template):
        before = template[cursor : m.start()]
        text.append(before)
        out_len += len(before)
        known = (placeholders or PLACEHOLDERS).get(m.group(1))
        label, value = (known[0], known[1](faker, rng)) if known else (None, m.group(0))
        if label == E.AGE and int(value) <= 89:
            label = None
        if label is not None:
            spans.append({"start": out_len, "end": out_len + len(value), "label": label})
        text.append(value)
        out_len += len(value)
        cursor = m.end()
    text.append(template[cursor:])
    return {"text": "".join(text), "spans": spans}


def _stable(faker: Any) -> Any:
    """Faker's it_IT city list is built from a set, so its order (and the seeded city) changes with Python's
    string hashing from one process to the next; sorted, the same seed gives the same set everywhere."""
    for factory in faker.factories:
        for provider in factory.get_providers():
            cities = getattr(provider, "cities", None)
            if isinstance(cities, list):
                provider.cities = sorted(cities)
    return faker


ADDRESS_STYLES = ("faker", "composed", "mixed")


def generate(
    templates: list[str], n: int, *, seed: int, split: str | None = None, address_style: str = "faker"
) -> Iterator[dict[str, Any]]:
    """n sentences (seeded), each from a random template of the chosen split in a random locale. `address_style`
    "composed" writes addresses from their parts (COMPOSED_ADDRESS_FORMATS) instead of Faker's locale formats, and
    "mixed" takes each part from a locale of its own: the frozen held-out part uses Faker's, so these draws are dev
    data of other shapes."""
    from faker import Faker

    if address_style not in ADDRESS_STYLES:
        raise ValueError(f"unknown address style {address_style!r} (one of {', '.join(ADDRESS_STYLES)})")
    makers = {"composed": _composed_address, "mixed": _mixed_address}
    placeholders = (
        PLACEHOLDERS if address_style == "faker" else {**PLACEHOLDERS, "address": (E.ADDRESS, makers[address_style])}
    )

    pool = [t for t in templates if split is None or template_split(t) == split]
    rng = random.Random(seed)
    fakers = {loc: _stable(Faker(loc)) for loc in LOCALES}
    for i in range(n):
        locale = rng.choice(LOCALES)
        faker = fakers[locale]
        faker.seed_instance(rng.randint(0, 2**31))
        template = rng.choice(pool)
        row = fill(template, faker, rng, placeholders)
        row.update({"id": f"gen-{i}", "locale": locale, "split": template_split(template)})
        yield row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("templates", type=Path)
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--split", choices=["dev", "held_out"], default=None)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    rows = generate(read_templates(args.templates), args.n, seed=args.seed, split=args.split)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


if __name__ == "__main__":
    main()
