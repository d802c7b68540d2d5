"""Synthetic clinical text with exact gold PII spans: hand-written clinical-style templates (visit dialogue and
note lines) filled with Faker values for every identifier type the scrubber handles.

python -m redaction.synth -n 500 --seed 7 -o redaction/data/synthetic_clinical_pii.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path
from typing import Any

from redaction import entities as E

TEMPLATES = [
    "[doctor] hi {FIRST}, how are you doing today? [patient] i'm okay, my wife {FIRST2} drove me in.",
    "Patient: {NAME}   DOB: {DATE}   MRN: {MRN}",
    "{NAME} is a 58-year-old female who presents on {DATE} for follow-up of hypertension.",
    "CHIEF COMPLAINT: chest pain. Seen by Dr. {LAST} on {DATE}.",
    "[doctor] can you confirm your date of birth? [patient] sure, it's {DATE}.",
    "[doctor] and what's the best number to reach you? [patient] my cell is {PHONE}.",
    "Contact: daughter {NAME}, phone {PHONE}.",
    "Please fax the records to {PHONE} attention Dr. {LAST}.",
    "Home address: {ADDRESS}, {CITY}, {STATE} {ZIP}.",
    "[patient] i moved last month, i live at {ADDRESS} now.",
    "Insurance member ID: {MEMBER_ID}. Group number {GROUP_ID}.",
    "Medical record number {MRN} was verified at check-in.",
    "Billing account number {ACCOUNT} has an outstanding balance.",
    "SSN on file: {SSN}.",
    "The patient is a {AGE_OVER_89}-year-old man with a history of atrial fibrillation.",
    "[doctor] mrs. {LAST}, you're {AGE_OVER_89} years old, right? [patient] yes, since {DATE}.",
    "Results were emailed to {EMAIL} on {DATE}.",
    "[patient] you can email me at {EMAIL} if anything changes.",
    "Portal access: {URL} (login from IP {IP}).",
    "Last colonoscopy {DATE_ISO} was normal per Dr. {NAME}.",
    "HISTORY OF PRESENT ILLNESS: {NAME} reports worsening knee pain since {DATE}.",
    "Referred by {NAME}, MD; appointment scheduled for {DATE} at the {CITY} clinic.",
    "[doctor] hello mr. {LAST}, i'm dr. {LAST2}. [patient] nice to meet you.",
    "Emergency contact: husband {NAME} at {PHONE}.",
    "Pt {NAME} (MRN {MRN}) was admitted on {DATE} and discharged on {DATE2}.",
    "Pharmacy on {ADDRESS} called about the refill; callback {PHONE}.",
    "Policy number {MEMBER_ID} is active through {DATE}.",
    "Patient ID {MRN}. Visit date: {DATE_ISO}.",
    "[doctor] so {FIRST}, tell me what brings you in. [patient] my back has been hurting.",
    "Lab requisition for {NAME}, DOB {DATE}, sent to {EMAIL}.",
    "Mailing address {ADDRESS}, {CITY}, {STATE} {ZIP}; phone {PHONE}.",
    "Seen with her son {NAME}, who provides most of the history.",
    "Medicare ID {MEMBER_ID} verified; account {ACCOUNT}.",
    "Spoke with Ms. {LAST} by phone at {PHONE} on {DATE}.",
    "Family history: mother {NAME} had breast cancer at 45.",
    "ASSESSMENT AND PLAN: {FIRST} will return on {DATE} to review labs.",
    "Discharge summary faxed to {PHONE}; copy mailed to {ADDRESS}.",
    "[patient] my name is {NAME} and my birthday is {DATE}.",
    "Ambulance picked up the patient at {ADDRESS} at 3 pm.",
    "Zip code {ZIP} is outside the service area.",
]
STATES = ["AL", "AZ", "CA", "CO", "FL", "GA", "IL", "MA", "MI", "NC", "NJ", "NY", "OH", "PA", "TX", "WA"]
_slot = re.compile(r"\{([A-Z_0-9]+)\}")


def _date(f: Any, rng: random.Random) -> str:
    d = f.date_between(start_date="-90y", end_date="today")
    fmt = rng.choice(["%m/%d/%Y", "%m/%d/%y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%B %d"])
    return d.strftime(fmt)


def _phone(f: Any, rng: random.Random) -> str:
    fmt = rng.choice(["###-###-####", "(###) ###-####", "###.###.####", "+1 ###-###-####"])
    s = f.numerify(fmt)
    return s.replace("(0", "(2").replace("(1", "(3")


def fill(f: Any, rng: random.Random, slot: str) -> tuple[str, str | None]:
    """Value and gold label for one placeholder (None = not PII)."""
    table = {
        "FIRST": (f.first_name, E.PERSON),
        "FIRST2": (f.first_name, E.PERSON),
        "LAST": (f.last_name, E.PERSON),
        "LAST2": (f.last_name, E.PERSON),
        "NAME": (f.name, E.PERSON),
        "DATE": (lambda: _date(f, rng), E.DATE),
        "DATE2": (lambda: _date(f, rng), E.DATE),
        "DATE_ISO": (lambda: f.date_between(start_date="-30y").isoformat(), E.DATE),
        "PHONE": (lambda: _phone(f, rng), E.PHONE),
        "EMAIL": (f.email, E.EMAIL),
        "MRN": (lambda: f.numerify(rng.choice(["########", "#######", "MR######"])), E.MRN),
        "ADDRESS": (f.street_address, E.ADDRESS),
        "CITY": (f.city, E.LOCATION),
        "STATE": (lambda: rng.choice(STATES), None),
        "ZIP": (f.zipcode, E.ZIP),
        "MEMBER_ID": (lambda: f.bothify("???#########").upper(), E.ID),
        "GROUP_ID": (lambda: f.numerify("######"), E.ID),
        "ACCOUNT": (lambda: f.numerify("##########"), E.ACCOUNT),
        "SSN": (f.ssn, E.SSN),
        "AGE_OVER_89": (lambda: str(rng.randint(90, 104)), E.AGE),
        "URL": (f.url, E.URL),
        "IP": (f.ipv4_public, E.IP),
    }
    make, label = table[slot]
    return make(), label


def generate(n: int, seed: int = 7) -> list[dict[str, Any]]:
    from faker import Faker

    f = Faker("en_US")
    f.seed_instance(seed)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        template = TEMPLATES[i % len(TEMPLATES)] if i < len(TEMPLATES) else rng.choice(TEMPLATES)
        text, spans, cursor = "", [], 0
        for m in _slot.finditer(template):
            text += template[cursor : m.start()]
            value, label = fill(f, rng, m.group(1))
            if label is not None:
                spans.append({"start": len(text), "end": len(text) + len(value), "label": label})
            text += value
            cursor = m.end()
        text += template[cursor:]
        out.append({"id": f"synth-{i:04d}", "text": text, "spans": spans})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("-o", "--out", type=Path, required=True)
    args = ap.parse_args()
    rows = generate(args.n, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(rows)} documents, {sum(len(r['spans']) for r in rows)} gold spans -> {args.out}")


if __name__ == "__main__":
    main()
