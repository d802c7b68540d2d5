"""Redaction: each recognizer on positive and negative cases, operators, audit without raw values, CLI."""

import json

import pytest

from redaction import entities as E
from redaction.engine import Detector, Span, clean_spans
from redaction.evaluate import read_gold, score
from redaction.operators import Replacer, Surrogates
from redaction.recognizers import ClinicalPatternRecognizer
from tests.conftest import run_vft

REC = ClinicalPatternRecognizer()


def found(text):
    return {(r.entity_type, text[r.start : r.end]) for r in REC.analyze(text, [])}


@pytest.mark.parametrize(
    "text, entity, value",
    [
        ("MRN: 00123456 verified", E.MRN, "00123456"),
        ("medical record number MR-1234567", E.MRN, "MR-1234567"),
        ("Member ID: XQH123456789", E.ID, "XQH123456789"),
        ("policy number is ABC12345", E.ID, "ABC12345"),
        ("account # 1234-5678-90", E.ACCOUNT, "1234-5678-90"),
        ("SSN 123-45-6789", E.SSN, "123-45-6789"),
        ("call (617) 555-0199 ext 12", E.PHONE, "(617) 555-0199 ext 12"),
        ("fax 617.555.0199", E.PHONE, "617.555.0199"),
        ("+1 617-555-0199", E.PHONE, "+1 617-555-0199"),
        ("DOB 03/14/1952", E.DATE, "03/14/1952"),
        ("seen 2021-07-04", E.DATE, "2021-07-04"),
        ("born March 3rd, 1950", E.DATE, "March 3rd, 1950"),
        ("on 4 July 2019", E.DATE, "4 July 2019"),
        ("a 94-year-old woman", E.AGE, "94"),
        ("aged 101", E.AGE, "101"),
        ("lives at 42 Oak Street Apt 5 now", E.ADDRESS, "42 Oak Street Apt 5"),
        ("at 17066 Heather Grove Apt. 915", E.ADDRESS, "17066 Heather Grove Apt. 915"),
        ("Springfield, IL 62704", E.ZIP, "62704"),
        ("zip code 02139", E.ZIP, "02139"),
        ("hello mr. Conway, welcome", E.PERSON, "Conway"),
        ("Referred by Anne Roberts, MD", E.PERSON, "Anne Roberts"),
    ],
)
def test_recognizer_positive(text, entity, value):
    assert (entity, value) in found(text)


@pytest.mark.parametrize(
    "text, entity",
    [
        ("blood pressure 120/80 today", E.DATE),
        ("a 62-year-old man", E.AGE),
        ("took 500 mg twice daily", E.PHONE),
        ("MRN pending", E.MRN),
        ("ID badge was lost", E.ID),
        ("heart rate 72 and 5 days of cough", E.ZIP),
        ("the 3 Main concerns", E.ADDRESS),
        ("we discussed 123-4567", E.SSN),
    ],
)
def test_recognizer_negative(text, entity):
    assert not [v for e, v in found(text) if e == entity]


def test_clean_spans_drops_relative_dates_and_merges():
    from presidio_analyzer import RecognizerResult

    text = "two weeks ago at 3 pm, on 03/14/1952"
    raw = [
        RecognizerResult("DATE_TIME", 0, 13, 0.85),
        RecognizerResult("DATE_TIME", 17, 21, 0.85),
        RecognizerResult("DATE_TIME", 26, 36, 0.85),
        RecognizerResult("DATE", 26, 31, 0.6),
    ]
    assert clean_spans(text, raw) == [Span(26, 36, E.DATE, 0.85)]


def test_operators():
    text = "Call John at 617-555-0199; John said ok. Mary too."
    spans = [Span(5, 9, E.PERSON), Span(13, 25, E.PHONE), Span(27, 31, E.PERSON), Span(41, 45, E.PERSON)]
    assert Replacer("tag").replace(text, spans) == "Call <PERSON> at <PHONE>; <PERSON> said ok. <PERSON> too."
    assert Replacer("instance").replace(text, spans) == (
        "Call <PERSON_1> at <PHONE_1>; <PERSON_1> said ok. <PERSON_2> too."
    )
    assert Replacer("mask").replace(text, spans[:1]).startswith("Call **** at")
    hashed = Replacer("hash", key="k").replace(text, spans)
    assert "John" not in hashed and hashed.count(hashed.split()[1]) == 2
    rep = Replacer("surrogate", key="fixed")
    a, b = rep.replace(text, spans), rep.replace("John again", [Span(0, 4, E.PERSON)])
    assert "John" not in a and "617-555-0199" not in a
    assert a.split()[1] == b.split()[0], "same original must map to the same surrogate across records"


def test_surrogates_are_consistent_and_keyed():
    s1, s2 = Surrogates("key-1"), Surrogates("key-2")
    assert s1(E.PERSON, "Jane Doe") == s1(E.PERSON, "jane  doe")
    assert s1(E.PERSON, "Jane Doe") != s2(E.PERSON, "Jane Doe") or s1(E.DATE, "1/2/1990") != s2(E.DATE, "1/2/1990")


def test_score_overlap_and_f2():
    gold = [[Span(0, 4, E.PERSON), Span(10, 20, E.PHONE)]]
    pred = [[Span(0, 4, E.PERSON), Span(30, 34, E.DATE)]]
    out = score(gold, pred)
    assert out["overall"]["recall"] == 0.5 and out["overall"]["precision"] == 0.5
    assert out["per_entity"][E.PHONE]["recall"] == 0.0


def test_reads_presidio_research_format(tmp_path):
    item = {
        "full_text": "call me at (96) 627-277, ms. Wijtze",
        "spans": [
            {"entity_type": "PHONE_NUMBER", "start_position": 11, "end_position": 23},
            {"entity_type": "TITLE", "start_position": 25, "end_position": 28},
        ],
    }
    path = tmp_path / "g.json"
    path.write_text(json.dumps([item]))
    ((_text, spans),) = read_gold(path)
    assert spans == [Span(11, 23, E.PHONE)]


@pytest.fixture(scope="module")
def detector():
    return Detector("spacy")


def test_spacy_detector_on_synthetic_sample(detector):
    from pathlib import Path

    data = read_gold(Path(__file__).parents[1] / "redaction" / "data" / "synthetic_clinical_pii.jsonl")[:120]
    out = score([g for _, g in data], list(detector.detect_many(t for t, _ in data)))
    assert out["direct_identifiers"]["recall"] >= 0.95 and out["direct_identifiers"]["precision"] >= 0.85


PLANTED = {
    "name": "Bartholomew Quigley",
    "phone": "617-555-0142",
    "mrn": "88812345",
    "email": "bq@example.org",
    "dob": "02/29/1948",
    "address": "1402 Larkspur Lane",
}


def test_cli_redact_leaves_no_planted_value(tmp_path):
    rows = [
        {
            "id": i,
            "note": f"Patient {PLANTED['name']} (MRN {PLANTED['mrn']}), DOB {PLANTED['dob']}, lives at "
            f"{PLANTED['address']}. Call {PLANTED['phone']} or email {PLANTED['email']}.",
            "other": "keep me",
        }
        for i in range(5)
    ]
    src = tmp_path / "notes.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "clean.jsonl"
    proc = run_vft(
        "redact",
        str(src),
        "--fields",
        "note",
        "-o",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    audit_file = tmp_path / "clean.redaction_audit.json"
    everything = out.read_text() + audit_file.read_text() + proc.stdout + proc.stderr
    for value in PLANTED.values():
        assert value not in everything, value
    audit = json.loads(audit_file.read_text())
    assert audit["scrubbed"] and audit["rows_changed"] == 5 and audit["entities_by_field"]["note"][E.MRN] == 5
    first = [json.loads(line) for line in out.read_text().splitlines()]
    assert first[0]["other"] == "keep me" and len({r["note"] for r in first}) == 1  # consistent surrogates

    from redaction.scrub import is_scrubbed

    assert is_scrubbed(out)
    out.write_text(out.read_text() + "\n")
    assert not is_scrubbed(out)


@pytest.mark.parametrize(
    "rows, message",
    [
        ([{"note": "hi"}, {"text": "no note"}], "row 2, field 'note': missing"),
        ([{"note": 5}], "row 1, field 'note': expected text"),
    ],
)
def test_redact_bad_input_is_named(tmp_path, rows, message):
    src = tmp_path / "bad.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = run_vft(
        "redact",
        str(src),
        "--fields",
        "note",
        "--detector",
        "regex",
    )
    assert proc.returncode == 2 and message in " ".join(proc.stderr.split())


def test_no_network_attempt(monkeypatch):
    """Building the analyzer must not open a socket (spaCy model and suffix list come from disk)."""
    import socket

    from redaction.engine import build_analyzer

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    build_analyzer.cache_clear()
    analyzer = build_analyzer("spacy")
    assert analyzer.analyze("mail bob@example.com", language="en")
