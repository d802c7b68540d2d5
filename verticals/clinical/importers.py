"""Public clinical data sets -> intake-form examples, with every derivation failure counted.

ACI-Bench (dialogue + note + metadata CSV beside it), how each field is derived:
- chief_complaint, secondary_complaints (split on ';'), age, sex: the metadata columns cc, 2nd_complaints,
  patient_age, patient_gender (no metadata row -> those fields are null, counted as `aci_no_metadata`).
- medications: lines of the note's MEDICATIONS / CURRENT MEDICATIONS section, one drug per line or per comma/"and"
  chunk; name = words before the first dose or route word, dose = "<number> <unit>", frequency = a known phrase.
  "None" (or "she denies needing medications") -> []. No section -> null (not scored). A line that yields no drug
  name counts as `aci_medication_unparsed`.
- allergies: the allergens of the ALLERGIES section: "No known allergies" / "Denies seasonal allergies" -> [];
  "Patient reports that he has an allergy to PENICILLIN" -> penicillin; "Sulfa, causes rash" and "Peanuts cause a
  severe reaction" -> the allergen only (a chunk that describes a reaction is not an allergen); no section -> null.
- vitals: numbers in the VITALS / VITALS REVIEWED section lines (blood pressure, pulse/heart rate, temperature,
  respiratory rate, oxygen saturation, weight). Qualitative-only lines ("Blood Pressure: Elevated.") give no value
  (`aci_vitals_qualitative`); no section -> null.
- symptoms: what the REVIEW OF SYSTEMS section says the patient endorses/reports ("Endorses nasal congestion"),
  split on commas and "and"; denials are not symptoms. No section -> null.

MTS-Dialog (section-typed snippets): CC -> chief_complaint, MEDICATIONS -> medications (names), ALLERGY ->
allergies; every other section header has no field in the form and the row is counted and set aside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.data import read_rows
from core.errors import DataError
from core.pack import LoadResult
from verticals.clinical.schema import IntakeForm, clean_text

ACI_COLUMNS = {"dialogue", "note", "encounter_id"}
MTS_COLUMNS = {"section_header", "section_text", "dialogue"}

_header = re.compile(r"^[A-Z][A-Z /&]+$")
_dose = re.compile(
    r"(\d+(?:\.\d+)?(?:\s*(?:-|to)\s*\d+(?:\.\d+)?)?)\s*(mg|mcg|g|ml|units?|iu|%|meq|puffs?)\b", re.IGNORECASE
)
_FREQUENCIES = (
    "once daily", "twice daily", "three times daily", "four times daily", "twice a day", "three times a day",
    "once a day", "once a week", "every other day", "daily", "nightly", "weekly", "monthly", "as needed", "prn",
    "at bedtime", "in the morning", "at night", "every \\d+ hours", "bid", "tid", "qid", "qhs",
)  # fmt: skip
_frequency = re.compile(r"\b(" + "|".join(_FREQUENCIES) + r")\b", re.IGNORECASE)
_STOP_NAME = re.compile(
    r"\b(\d+(?:\.\d+)?|tablet|tablets|capsule|by mouth|orally|po|applied|topical|topically|inhaler|injection|cream|gel|"
    r"ointment|patch|drops|as needed|prn|daily|twice|once)\b",
    re.IGNORECASE,
)
_NONE = re.compile(
    r"^(none|no (known )?(drug )?allergies|nkda|no medications|no current medications)\b"
    r"|^(the )?(patient|she|he) denies (taking |needing |using )?(any )?medications?\b",
    re.I,
)
_LEAD = re.compile(
    r"^(the )?patient (reports|states|is) (taking|on)\s+|^(prescribed medications were|she takes|he takes)\s+", re.I
)
_ENDORSE = re.compile(r"\b(?:endorses|reports|positive for|complains of|admits to)\s+([^.;]+)", re.IGNORECASE)
_VITAL_KEYS = (
    ("blood_pressure", re.compile(r"blood pressure|\bbp\b", re.I)),
    ("heart_rate", re.compile(r"heart rate|pulse|\bhr\b", re.I)),
    ("temperature", re.compile(r"temperature|\btemp\b", re.I)),
    ("respiratory_rate", re.compile(r"respiratory rate|respirations|\brr\b", re.I)),
    ("oxygen_saturation", re.compile(r"oxygen saturation|o2 sat|spo2|pulse ox", re.I)),
    ("weight", re.compile(r"weight", re.I)),
)


def note_sections(note: str) -> dict[str, list[str]]:
    """Upper-case header lines split the note into sections of non-empty lines (bullets stripped)."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for line in note.splitlines():
        text = line.strip()
        if not text:
            continue
        if _header.match(text) and len(text) < 40:
            current = text
            sections.setdefault(current, [])
        elif current is not None:
            sections[current].append(text.lstrip("•-* ").strip())
    return sections


def _section(sections: dict[str, list[str]], *names: str) -> list[str] | None:
    found = [line for n in names if n in sections for line in sections[n]]
    return found if any(n in sections for n in names) else None


def _chunks(line: str) -> Iterable[str]:
    line = _LEAD.sub("", line.strip().rstrip("."))
    for part in re.split(r",\s*(?:and\s+)?|;\s*|\s+and\s+(?=[A-Z])", line):
        part = re.sub(r"^(and|or)\s+", "", part.strip(), flags=re.I)
        if part:
            yield part


def parse_medication(text: str) -> dict[str, Any] | None:
    stop = _STOP_NAME.search(text)
    name = clean_text(text[: stop.start()] if stop else text)
    if not name or len(name.split()) > 4:
        return None
    dose = _dose.search(text)
    freq = _frequency.search(text)
    return {
        "name": name,
        "dose": f"{dose.group(1)} {dose.group(2)}".lower() if dose else None,
        "frequency": freq.group(1).lower() if freq else None,
    }


def medications_from_lines(lines: list[str], result: LoadResult) -> list[dict[str, Any]]:
    meds: list[dict[str, Any]] = []
    for line in lines:
        if _NONE.match(line.strip()):
            continue
        for chunk in _chunks(line):
            med = parse_medication(chunk)
            if med is None:
                result.count("medication_line_unparsed")
            else:
                meds.append(med)
    return meds


def list_items(lines: list[str]) -> list[str]:
    """'Penicillin.' / 'Percocet, Vicodin and Reglan.' -> items; 'No known allergies.' -> []."""
    items: list[str] = []
    for line in lines:
        if _NONE.match(line.strip()):
            continue
        items.extend(c for c in (clean_text(x) for x in _chunks(line)) if c)
    return items


_DENIES = re.compile(r"\b(denies|no known|none|nkda|no (drug )?allergies)\b", re.I)
_ALLERGY_LEAD = re.compile(
    r"^((the )?patient |he |she )?(is |reports |has |states )?(that (he|she) (has|is) )?(an? )?"
    r"(history of |allergy to |allergies to |allergic to |to )+",
    re.I,
)
_REACTION = re.compile(r"\b(causes?|reaction|rash|hives|itching|swelling|anaphyla\w*)\b", re.I)


def allergy_items(lines: list[str]) -> list[str]:
    """The allergens an ALLERGIES section names, without the reactions it describes or the phrase around them."""
    items: list[str] = []
    for line in lines:
        text = line.strip()
        if _DENIES.search(text):
            continue
        text = re.split(r"\bcauses?\b|\bbut\b", text, maxsplit=1, flags=re.I)[0]
        for chunk in (c for part in _chunks(text) for c in re.split(r"\s+and\s+", part)):
            chunk = _ALLERGY_LEAD.sub("", chunk.strip().strip('"“”')).strip()
            if chunk and not _REACTION.search(chunk):
                items.extend(c for c in [clean_text(chunk)] if c)
    return items


def vitals_from_lines(lines: list[str], result: LoadResult) -> dict[str, Any] | None:
    vitals: dict[str, Any] = {}
    for line in lines:
        label, _, value = line.partition(":")
        if not value:
            label, value = line, line
        for key, pattern in _VITAL_KEYS:
            if pattern.search(label) and key not in vitals:
                if re.search(r"\d", value):
                    vitals[key] = value.strip()
                else:
                    result.count("aci_vitals_qualitative")
                break
    if not vitals:
        return None
    return vitals


def symptoms_from_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        body = line.split(":", 1)[1] if ":" in line else line
        for match in _ENDORSE.finditer(body):
            phrase = re.split(r"\b(?:but|however|denies)\b", match.group(1), flags=re.I)[0]
            out.extend(c for c in (clean_text(x) for x in re.split(r",|\band\b|\bor\b", phrase)) if c)
    return out


def _metadata(path: Path) -> dict[str, dict[str, Any]]:
    meta_path = path.with_name(f"{path.stem}_metadata.csv")
    if not meta_path.is_file():
        return {}
    return {str(rec.get("encounter_id")): rec for _, rec in read_rows(meta_path)}


def aci_form(note: str, meta: dict[str, Any] | None, result: LoadResult) -> dict[str, Any]:
    sections = note_sections(note)
    form: dict[str, Any] = {}
    if meta:
        form["chief_complaint"] = meta.get("cc") or None
        second = meta.get("2nd_complaints") or ""
        form["secondary_complaints"] = [s for s in (clean_text(x) for x in str(second).split(";")) if s]
        form["age"] = meta.get("patient_age") or None
        form["sex"] = meta.get("patient_gender") or None
    else:
        result.count("aci_no_metadata")
    med_lines = _section(sections, "MEDICATIONS", "CURRENT MEDICATIONS")
    if med_lines is not None:
        form["medications"] = medications_from_lines(med_lines, result)
    allergy_lines = _section(sections, "ALLERGIES")
    if allergy_lines is not None:
        form["allergies"] = allergy_items(allergy_lines)
    vital_lines = _section(sections, "VITALS", "VITALS REVIEWED", "VITAL SIGNS")
    if vital_lines is not None:
        form["vitals"] = vitals_from_lines(vital_lines, result)
        if form["vitals"] is None:
            result.count("aci_vitals_section_without_numbers")
    ros = _section(sections, "REVIEW OF SYSTEMS")
    if ros is not None:
        form["symptoms"] = symptoms_from_lines(ros)
    for key in ("medications", "allergies", "vitals", "symptoms"):
        result.count(f"aci_{key}_{'derived' if form.get(key) is not None else 'not_in_note'}")
    return IntakeForm.model_validate(form).model_dump()


def is_aci(columns: Iterable[str]) -> bool:
    return set(columns) >= ACI_COLUMNS


def is_mts(columns: Iterable[str]) -> bool:
    return set(columns) >= MTS_COLUMNS


def load_aci(path: Path, source_field: str = "dialogue") -> tuple[list[dict[str, Any]], LoadResult]:
    """Rows of an ACI-Bench CSV -> records {id, group, text, form}. `source_field`: dialogue (default) or note."""
    result = LoadResult(examples=[])
    meta = _metadata(path)
    if not meta:
        result.notes.append(f"no {path.stem}_metadata.csv beside {path.name}: complaint, age and sex are null")
    records = []
    for row, rec in read_rows(path):
        result.rows_read += 1
        text = rec.get(source_field)
        if not isinstance(text, str) or not text.strip():
            raise DataError("is empty", file=str(path), row=row, field=source_field)
        form = aci_form(str(rec.get("note") or ""), meta.get(str(rec["encounter_id"])), result)
        records.append({"id": str(rec["encounter_id"]), "group": str(rec["encounter_id"]), "text": text, "form": form})
    return records, result


MTS_FIELDS = {"CC": "chief_complaint", "MEDICATIONS": "medications", "ALLERGY": "allergies"}


def load_mts(path: Path) -> tuple[list[dict[str, Any]], LoadResult]:
    result = LoadResult(examples=[])
    records = []
    for row, rec in read_rows(path):
        result.rows_read += 1
        header = str(rec.get("section_header") or "").strip().upper()
        field_name = MTS_FIELDS.get(header)
        if field_name is None:
            result.count("mts_section_without_form_field")
            continue
        text = str(rec.get("section_text") or "").strip()
        if field_name == "chief_complaint":
            form: dict[str, Any] = {"chief_complaint": text}
        elif field_name == "allergies":
            form = {"allergies": allergy_items([text])}
        else:
            form = {"medications": medications_from_lines([text], result)}
        if not str(rec.get("dialogue") or "").strip():
            raise DataError("is empty", file=str(path), row=row, field="dialogue")
        rec_id = f"mts-{rec.get('ID', row)}"
        records.append({"id": rec_id, "group": rec_id, "text": rec["dialogue"], "form": form})
        result.count(f"mts_{field_name}")
    return records, result
