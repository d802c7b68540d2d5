"""Clinical pack: form normalisation, parser, field scoring, importers on real rows, user schemas, and the
scrub-before-training step of a run (no planted identifier anywhere in the run folder)."""

import json
from pathlib import Path

import pytest

from core.config import build_config
from core.errors import DataError, DataErrors, ParseError, RunError
from core.pack import LoadResult, get_pack
from core.pipeline import train_and_evaluate
from tests.conftest import run_vft, write_jsonl
from verticals.clinical.importers import allergy_items, medications_from_lines
from verticals.clinical.schema import IntakeForm

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "clinical"
needs_shared = pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")


@pytest.fixture
def pack():
    return get_pack("clinical")


def test_form_normalises_units_and_case():
    form = IntakeForm.model_validate(
        {
            "chief_complaint": "Back pain.",
            "age": "62-year-old",
            "sex": "F",
            "medications": [{"name": "Lisinopril", "dose": "40 MG", "frequency": "Daily"}],
            "vitals": {
                "blood_pressure": "156/94 mmHg",
                "heart_rate": "72 bpm",
                "temperature": "98.7 F",
                "weight": "70 kg",
            },
        }
    ).model_dump()
    assert form["age"] == 62 and form["sex"] == "female" and form["chief_complaint"] == "back pain"
    assert form["medications"] == [{"name": "lisinopril", "dose": "40 mg", "frequency": "daily"}]
    assert form["vitals"]["blood_pressure"] == "156/94" and form["vitals"]["heart_rate"] == 72
    assert form["vitals"]["temperature"] == 98.7 and form["vitals"]["weight"] == "70 kg"


def test_list_fields_are_sets_so_a_looping_answer_states_each_item_once(pack):
    looping = pack.parse(
        '{"symptoms": ["Headache", "nausea", "headache.", "headache"], "medications": '
        '[{"name": "Lisinopril", "dose": "10 mg"}, {"name": "lisinopril", "dose": "20 mg"}, {"name": "aspirin"}]}'
    )
    assert looping["symptoms"] == ["headache", "nausea"]
    assert [(m["name"], m["dose"]) for m in looping["medications"]] == [("lisinopril", "10 mg"), ("aspirin", None)]
    ref = pack.validate_form({"symptoms": ["headache", "fever"]})
    scores = pack.metrics([looping], [ref])["per_field"]["symptoms"]
    assert scores["precision"] == 0.5 and scores["recall"] == 0.5  # not 1/4: the loop is one wrong item, not three


def test_an_item_saying_none_is_the_empty_list_not_an_item(pack):
    form = pack.validate_form({"secondary_complaints": ["None"], "allergies": ["n/a", "Penicillin"]})
    assert form["secondary_complaints"] == [] and form["allergies"] == ["penicillin"]


def test_a_medications_section_that_denies_medications_is_the_empty_list():
    result = LoadResult(examples=[])
    lines = ["She denies needing medications.", "The patient denies taking any medication."]
    assert medications_from_lines(lines, result) == [] and not result.counts
    assert [m["name"] for m in medications_from_lines(["Lisinopril 10 mg daily."], result)] == ["lisinopril"]


@pytest.mark.parametrize(
    ("lines", "allergens"),
    [
        (["Sulfa, causes rash."], ["sulfa"]),
        (["Patient reports that he has an allergy to PENICILLIN."], ["penicillin"]),
        (["Peanuts cause a severe, anaphylactic reaction.", "Montelukast sodium, “seizure-like” reaction."],
         ["peanuts", "montelukast sodium"]),
        (["Denies seasonal allergies."], []),
        (["No known drug allergies."], []),
        (["Percocet, Vicodin and Reglan."], ["percocet", "vicodin", "reglan"]),
        (["She is allergic to Lortab."], ["lortab"]),
        (["PCN, but has tolerated cephalosporins in the past."], ["pcn"]),
    ],
)  # fmt: skip
def test_allergies_are_the_allergens_not_the_reaction_or_the_phrase_around_them(lines, allergens):
    assert allergy_items(lines) == allergens


def test_parse_finds_nested_json_in_prose(pack):
    out = pack.parse('Sure! ```json\n{"age": 40, "vitals": {"heart_rate": 80}, "allergies": []}\n``` done')
    assert out["age"] == 40 and out["vitals"]["heart_rate"] == 80 and out["allergies"] == []


@pytest.mark.parametrize("text", ["no json here", '{"age": "old"', '{"unknown_field": 1}', '{"medications": [3]}'])
def test_parse_rejects_what_does_not_fit(pack, text):
    with pytest.raises(ParseError):
        pack.parse(text)


def test_metrics_skip_fields_without_reference_and_score_doses(pack):
    ref = pack.validate_form(
        {
            "chief_complaint": "knee pain",
            "age": 50,
            "medications": [{"name": "metformin", "dose": "500 mg"}, {"name": "aspirin"}],
            "vitals": None,
        }
    )
    pred = pack.validate_form(
        {
            "chief_complaint": "Knee pain",
            "age": 51,
            "medications": [{"name": "metformin", "dose": "500 mg"}, {"name": "tylenol", "dose": "1 g"}],
            "vitals": {"heart_rate": 80},
        }
    )
    text = "Patient with knee pain takes metformin 500 mg and aspirin."
    scores = pack.metrics([pred, None], [ref, ref], inputs=[text, text])
    per = scores["per_field"]
    assert per["chief_complaint"]["examples_scored"] == 2 and per["chief_complaint"]["recall"] == 0.5
    assert per["vitals.heart_rate"]["examples_scored"] == 0  # no reference: not scored, so no false positive
    assert "vitals.heart_rate" in scores["fields_without_reference"]
    assert per["medications"]["precision"] == 0.5  # metformin right, tylenol wrong
    assert per["medications.dose"]["precision"] == 1.0  # tylenol's dose is not judged (not a reference drug)
    assert scores["scalar_exact_match"]["age"] == 0.0
    assert scores["schema_valid_rate"] == 0.5
    assert scores["span"]["gold_values_located"] == 6  # knee pain, metformin, aspirin x 2 examples
    assert 0 < scores["micro_f1"] < 1


@needs_shared
def test_aci_importer_on_real_rows(pack):
    result = pack.load(SHARED / "aci_bench" / "valid.csv")
    assert result.rows_read == 20 and len(result.examples) == 20
    first = result.examples[0]
    assert first.reference["chief_complaint"] and first.reference["sex"] in ("female", "male")
    assert isinstance(first.reference["age"], int)
    derived = sum(v for k, v in result.counts.items() if k.endswith("_derived"))
    missing = sum(v for k, v in result.counts.items() if k.endswith("_not_in_note"))
    assert derived + missing == 4 * 20  # every field of every row is accounted for
    assert all(json.loads(e.target) == e.reference for e in result.examples)


@needs_shared
def test_mts_importer_counts_sections_without_field(pack):
    result = pack.load(SHARED / "mts_dialog" / "MTS-Dialog-ValidationSet.csv")
    kept = sum(v for k, v in result.counts.items() if k.startswith("mts_") and k != "mts_section_without_form_field")
    assert kept == len(result.examples)
    assert kept + result.counts["mts_section_without_form_field"] == result.rows_read


def test_user_schema_and_bad_targets_name_row_and_field(tmp_path):
    schema = tmp_path / "form.yaml"
    schema.write_text("fields:\n  complaint: string\n  pain_score: integer\n  smoker: boolean\n")
    pack = get_pack("clinical", {"schema_file": str(schema), "text_column": "note", "target_column": "form"})
    good = {"note": "Pain 7/10, smokes.", "form": {"complaint": "pain", "pain_score": 7, "smoker": True}}
    path = write_jsonl(tmp_path / "d.jsonl", [good, {"note": "x", "form": {"pain_score": "high"}}])
    with pytest.raises(DataErrors) as err:
        pack.load(path)
    assert "row 2" in str(err.value) and "form.pain_score" in str(err.value)
    ok = pack.load(write_jsonl(tmp_path / "ok.jsonl", [good]))
    assert ok.examples[0].reference == {"complaint": "pain", "pain_score": 7, "smoker": True}
    assert "pain_score" in pack.system_prompt()


def test_user_schema_unknown_type_is_named(tmp_path):
    schema = tmp_path / "form.yaml"
    schema.write_text("fields:\n  complaint: text\n")
    with pytest.raises(DataError, match="complaint"):
        get_pack("clinical", {"schema_file": str(schema)})


def test_bundled_sample_loads(pack):
    result = pack.load(pack.sample_data_path())
    assert len(result.examples) == 160
    assert any(e.reference["vitals"] for e in result.examples)


def test_decoding_bounds_come_from_the_training_forms_and_survive_the_run_folder(pack):
    train = pack.load(pack.sample_data_path()).examples
    pack.fit(train)
    lists = ("secondary_complaints", "medications", "allergies", "symptoms")
    longest = max(len(e.reference[f] or []) for e in train for f in lists)
    assert pack.decoding_max_items == max(6, round(longest * 1.5))
    schema = pack.output_json_schema()
    symptoms = next(s for s in schema["properties"]["symptoms"]["anyOf"] if s.get("type") == "array")
    assert symptoms["maxItems"] == pack.decoding_max_items
    assert symptoms["items"]["maxLength"] == pack.decoding_max_chars
    rebuilt = get_pack("clinical")
    rebuilt.load_state(json.loads(json.dumps(pack.state())))
    assert rebuilt.output_json_schema() == schema
    IntakeForm.model_validate({"symptoms": ["cough"] * 40})  # the bounds limit decoding only, never gold data


def test_the_forms_string_lists_are_sets_to_the_decoder(pack):
    from core.unique_items import unique_list_keys

    assert unique_list_keys(pack.output_json_schema()) == {"secondary_complaints", "allergies", "symptoms"}


# -- scrubbing inside a run --------------------------------------------------------------------------------

PLANTED = ["Margaret Thornbury", "MRN 55123987", "(617) 555-0142", "14 Wexford Street"]


WORDS = [
    "garden",
    "weather",
    "travel",
    "daughter",
    "kitchen",
    "stairs",
    "football",
    "winter",
    "summer",
    "coffee",
    "breakfast",
    "walking",
    "swimming",
    "cycling",
    "reading",
    "painting",
    "office",
    "retirement",
    "holiday",
    "grandson",
    "neighbour",
    "market",
    "church",
    "choir",
    "bakery",
]


def _visits(tmp_path: Path) -> Path:
    """Visits with planted identifiers; the chatter differs per row so the leakage check keeps a test split."""
    import random

    rng = random.Random(0)
    rows = []
    for i in range(24):
        age = 30 + i
        chatter = " ".join(rng.sample(WORDS, 12))
        text = (
            f"Doctor: Good morning Ms. Margaret Thornbury, MRN 55123987. You can reach us at (617) 555-0142. "
            f"Still at 14 Wexford Street? Patient: Yes. {chatter}. I am {age} and my knee hurts. "
            f"I take ibuprofen 200 mg daily. {' '.join(rng.sample(WORDS, 10))}."
        )
        target = {"chief_complaint": "knee pain", "age": age, "medications": [{"name": "ibuprofen", "dose": "200 mg"}]}
        rows.append({"id": f"v{i}", "text": text, "target": target})
    return write_jsonl(tmp_path / "visits.jsonl", rows)


def _cfg(tiny_model, data, tmp_path, **extra):
    return build_config(
        overrides={
            "pack": "clinical",
            "data": str(data),
            "base_model": str(tiny_model),
            "output_dir": str(tmp_path / "runs"),
            "max_steps": 2,
            "save_steps": 2,
            "eval_steps": 2,
            "max_length": 1536,
            "max_new_tokens": 24,
            "max_eval_examples": 3,
            "test_fraction": 0.2,
            "systems": ["zero_shot", "tuned"],
            "redaction": {"detector": "regex"},
            **extra,
        }
    )


def test_run_scrubs_before_training_and_leaks_nothing(tiny_model, tmp_path):
    from redaction.scrub import PresidioScrubber

    data = _visits(tmp_path)
    scrubber = PresidioScrubber("surrogate", "regex", show_progress=False)
    run_dir = train_and_evaluate("clinical", _cfg(tiny_model, data, tmp_path), name="scrubbed", scrubber=scrubber)
    audit = json.loads((run_dir / "redaction_audit.json").read_text())
    assert audit["rows_changed"] == 24 and audit["entities_total"]
    report = json.loads((run_dir / "data_report.json").read_text())
    assert report["redaction"]["status"] == "scrubbed"
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert any(p.name == "tuned.jsonl" for p in files)
    for path in files:
        content = path.read_bytes().decode("utf-8", errors="ignore")
        for value in PLANTED:
            assert value not in content, f"{value!r} leaked into {path.relative_to(run_dir)}"
    assert "per_field" in (run_dir / "results.json").read_text()


def test_run_refuses_unscrubbed_data_without_a_scrubber(tiny_model, tmp_path):
    with pytest.raises(RunError, match="allow_unredacted"):
        train_and_evaluate("clinical", _cfg(tiny_model, _visits(tmp_path), tmp_path), name="refused")


def test_allow_unredacted_is_recorded(tiny_model, tmp_path):
    cfg = _cfg(tiny_model, _visits(tmp_path), tmp_path, allow_unredacted=True, max_steps=1, systems=["zero_shot"])
    run_dir = train_and_evaluate("clinical", cfg, name="raw")
    assert "allow_unredacted: true" in (run_dir / "config.yaml").read_text()
    assert "UNREDACTED" in (run_dir / "report.md").read_text()


def test_cli_train_clinical_scrubs_and_keeps_stdout_clean(tiny_model, tmp_path):
    data = _visits(tmp_path)
    proc = run_vft(
        "train", "clinical", "--data", str(data), "--base-model", str(tiny_model), "--output-dir",
        str(tmp_path / "runs"), "--name", "cli", "--max-steps", "1", "--no-eval",
        "--set", "redaction.detector=regex", "--set", "max_length=1536",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for value in PLANTED:
        assert value not in proc.stdout + proc.stderr
    assert (tmp_path / "runs" / "cli" / "redaction_audit.json").is_file()
