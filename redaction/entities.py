"""The entity labels this project reports, and how Presidio's and presidio-research's names map onto them."""

from __future__ import annotations

PERSON, DATE, PHONE, EMAIL, MRN, ADDRESS, ZIP, LOCATION = (
    "PERSON",
    "DATE",
    "PHONE",
    "EMAIL",
    "MRN",
    "ADDRESS",
    "ZIP",
    "LOCATION",
)
ID, ACCOUNT, SSN, AGE, URL, IP = "ID", "ACCOUNT", "SSN", "AGE", "URL", "IP"

ALL = (PERSON, DATE, PHONE, EMAIL, MRN, ADDRESS, ZIP, LOCATION, ID, ACCOUNT, SSN, AGE, URL, IP)
# Direct identifiers: the recall target of the redaction benchmark.
DIRECT = (PERSON, DATE, PHONE, EMAIL, MRN, ADDRESS, ZIP, ID, ACCOUNT, SSN, AGE, URL, IP)

FROM_PRESIDIO = {
    "PERSON": PERSON,
    "DATE_TIME": DATE,
    "PHONE_NUMBER": PHONE,
    "EMAIL_ADDRESS": EMAIL,
    "US_SSN": SSN,
    "URL": URL,
    "IP_ADDRESS": IP,
    "LOCATION": LOCATION,
    "CREDIT_CARD": ACCOUNT,
    "IBAN_CODE": ACCOUNT,
    "US_BANK_NUMBER": ACCOUNT,
    "MEDICAL_LICENSE": ID,
    "US_DRIVER_LICENSE": ID,
    "US_PASSPORT": ID,
    "US_ITIN": ID,
}
# presidio-research gold labels -> ours (labels we do not scrub map to None and are left out of scoring).
FROM_PRESIDIO_RESEARCH = {
    **FROM_PRESIDIO,
    "ADDRESS": ADDRESS,
    "STREET_ADDRESS": ADDRESS,
    "DOMAIN_NAME": URL,
    "ORGANIZATION": None,
    "TITLE": None,
    "NRP": None,
}


def canonical(label: str) -> str | None:
    """Our label for any known name (ours, Presidio's, presidio-research's); None = not scrubbed."""
    if label in ALL:
        return label
    return FROM_PRESIDIO_RESEARCH.get(label, label)
