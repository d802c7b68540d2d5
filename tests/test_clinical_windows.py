"""Window-by-window extraction: how a dialogue is cut, where each reference value goes for training, how the
windows' forms merge, and a windowed run end to end (training on windows, every system answering by windows)."""

import itertools
import json
import random

import pytest

from core.errors import ConfigError
from core.generate import Generation
from core.pack import Example, get_pack
from core.windows import generate_by_windows
from tests.test_clinical_pack import WORDS, _cfg
from verticals.clinical.windows import merge_forms, split_windows, window_forms

DIALOGUE = "\n".join(f"[doctor] line {i} " + "word " * 20 for i in range(30))


def test_windows_are_whole_lines_within_the_size_and_overlap():
    windows = split_windows(DIALOGUE, 600, 150)
    lines = DIALOGUE.splitlines()
    assert len(windows) > 1 and all(len(w) <= 600 for w in windows)
    assert all(line in lines for w in windows for line in w.splitlines())
    assert set(lines) == {line for w in windows for line in w.splitlines()}  # nothing left out
    for a, b in itertools.pairwise(windows):
        assert a.splitlines()[-1] in b.splitlines()  # consecutive windows share lines


def test_a_short_input_or_no_window_size_is_one_window():
    assert split_windows("short", 600, 150) == ["short"]
    assert split_windows(DIALOGUE, 0, 150) == [DIALOGUE]


def test_a_line_longer_than_a_window_is_cut_at_spaces():
    windows = split_windows("word " * 400, 300, 50)
    assert len(windows) > 1 and all(len(w) <= 300 for w in windows)


def test_training_forms_put_each_value_where_the_window_states_it():
    windows = [
        "[doctor] you are 57 and here for your back . any allergies ? [patient] no .",
        "[doctor] still taking lisinopril 20 mg ? your blood pressure is 142 over 88 .",
        "[patient] my stomach hurts after meals , the abdominal cramps are bad .",
        "[doctor] let's follow up in two weeks .",
    ]
    form = {
        "chief_complaint": "back pain",
        "secondary_complaints": None,
        "age": 57,
        "sex": None,
        "medications": [{"name": "lisinopril", "dose": "20 mg", "frequency": None}],
        "allergies": [],
        "vitals": {"blood_pressure": "142/88", "heart_rate": 70},
        "symptoms": ["abdominal pain", "fatigue"],
    }
    targets, counts = window_forms(windows, form)
    assert targets[0]["chief_complaint"] == "back pain" and targets[0]["age"] == 57 and targets[0]["allergies"] == []
    assert all(t["chief_complaint"] is None and t["allergies"] is None for t in targets[1:])
    assert targets[1]["medications"][0]["name"] == "lisinopril" and targets[0]["medications"] is None
    assert targets[1]["vitals"] == {"blood_pressure": "142/88"}  # heart rate 70 is said nowhere
    assert targets[2]["symptoms"] == ["abdominal pain"]  # paraphrased: the window sharing its words
    assert all(t["symptoms"] is None for i, t in enumerate(targets) if i != 2)  # "fatigue" is said nowhere
    assert counts == {"values_placed": 3, "values_not_in_text": 2}


def test_where_stated_the_age_goes_where_it_is_said_and_nowhere_when_it_is_not():
    windows = ["[doctor] hi , how are you ?", "[doctor] so you are fifty two now ?", "[doctor] you are 52 , right ?"]
    assert [t["age"] for t in window_forms(windows, {"age": 52})[0]] == [52, None, None]  # default: first window
    targets, counts = window_forms(windows, {"age": 52, "sex": "female"}, where_stated=True)
    assert [t["age"] for t in targets] == [None, 52, None] and targets[0]["sex"] == "female"
    assert counts == {"values_placed": 1, "values_not_in_text": 0}
    targets, counts = window_forms(windows[:1], {"age": 39, "sex": "male"}, where_stated=True)
    assert targets[0]["age"] is None and targets[0]["sex"] == "male"
    assert counts == {"values_placed": 0, "values_not_in_text": 1}


def test_the_pack_option_places_stated_values_only():
    text = "\n".join(["[doctor] hi , how are you today ?"] * 3 + ["[doctor] your pulse is seventy two ."] * 3)
    reference = {"age": 61, "vitals": {"heart_rate": 72}}
    for option, first_age, pulse_windows in ((False, 61, 0), (True, None, 1)):
        pack = get_pack("clinical", {"window_chars": 120, "window_overlap_chars": 0, "stated_values_only": option})
        ex = Example(id="v", text=text, target="{}", reference=pack.validate_form(reference))
        forms = [json.loads(v.target) for v in pack._window_examples(ex)[0]]
        assert forms[0]["age"] == first_age
        assert sum(bool(f["vitals"]) for f in forms) >= pulse_windows
        assert option or not any(f["vitals"] for f in forms)


def test_merge_unions_lists_and_takes_the_first_scalar():
    merged = merge_forms(
        [
            {"age": 57, "sex": None, "medications": None, "allergies": [], "vitals": None, "symptoms": ["cough"]},
            None,  # a window whose answer did not parse
            {
                "age": 75,
                "sex": "male",
                "medications": [{"name": "lisinopril", "dose": "20 mg"}],
                "allergies": None,
                "vitals": {"heart_rate": 80, "blood_pressure": None},
                "symptoms": ["Cough", "fever"],
            },
            {"age": None, "medications": [{"name": "lisinopril", "dose": None}], "vitals": {"blood_pressure": "1/2"}},
        ]
    )
    assert merged["age"] == 57 and merged["sex"] == "male"
    assert merged["medications"] == [{"name": "lisinopril", "dose": "20 mg"}]
    assert merged["symptoms"] == ["cough", "fever"] and merged["allergies"] == []
    assert merged["vitals"] == {"heart_rate": 80, "blood_pressure": "1/2"}


def test_empty_windows_are_thinned_for_training_and_counted():
    pack = get_pack("clinical", {"window_chars": 600, "window_overlap_chars": 100})
    ex = Example(id="v1", text=DIALOGUE, target="{}", reference=pack.validate_form({"sex": "female"}))
    counts = pack.window_counts([ex])
    views = pack.training_views([ex])
    assert counts["windows"] == len(views) and counts["empty_windows_left_out"] > 0
    assert json.loads(views[0].target)["sex"] == "female" and all(v.id == "v1" for v in views)
    keep_all = get_pack("clinical", {"window_chars": 600, "window_overlap_chars": 100, "empty_window_fraction": 1.0})
    assert len(keep_all.training_views([ex])) == len(split_windows(DIALOGUE, 600, 100))


def test_windows_need_the_built_in_form(tmp_path):
    schema = tmp_path / "form.yaml"
    schema.write_text("fields:\n  pain: string\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="window_chars"):
        get_pack("clinical", {"window_chars": 600, "schema_file": str(schema)})


def test_generation_by_windows_answers_every_window_once_and_merges():
    pack = get_pack("clinical", {"window_chars": 600, "window_overlap_chars": 100})
    seen: list[list[str]] = []

    def generate(pieces, on_batch):
        seen.append([p.text if isinstance(p, Example) else p for p in pieces])
        return [
            Generation(json.dumps({"symptoms": [f"s{i}"]}), 3, 0.5, False, batch_seconds=1.0)
            for i, _ in enumerate(pieces)
        ]

    short = Example(id="s", text="[patient] cough", target="", reference=None)
    gens = generate_by_windows(pack, [short, DIALOGUE], generate)
    n = len(split_windows(DIALOGUE, 600, 100))
    assert len(seen) == 1 and len(seen[0]) == 1 + n  # one batched call over every window
    assert json.loads(gens[0].text) == {"symptoms": ["s0"]}  # a one-window input keeps its own answer
    merged = json.loads(gens[1].text)
    assert merged["symptoms"] == [f"s{i}" for i in range(1, n + 1)] and gens[1].new_tokens == 3 * n


def test_a_pack_without_windows_gets_its_generations_unchanged():
    pack = get_pack("legal")
    marker = [Generation("x", 1, 0.1, False)]
    assert generate_by_windows(pack, ["a clause"], lambda pieces, on_batch: marker) is marker


def test_windowed_run_trains_on_windows_and_answers_by_windows(tiny_model, tmp_path):
    from core.pipeline import train_and_evaluate
    from redaction.scrub import PresidioScrubber
    from tests.conftest import write_jsonl

    rng = random.Random(0)
    rows = [
        {
            "id": f"v{i}",
            "text": f"[doctor] you are {30 + i} ?\n"
            + "\n".join(f"[patient] {' '.join(rng.sample(WORDS, 6))}" for _ in range(8))
            + "\n[doctor] ibuprofen ?",
            "target": {"age": 30 + i, "medications": [{"name": "ibuprofen"}]},
        }
        for i in range(16)
    ]
    data = write_jsonl(tmp_path / "visits.jsonl", rows)
    cfg = _cfg(
        tiny_model,
        data,
        tmp_path,
        pack_options={"window_chars": 150, "window_overlap_chars": 30},
        max_length=1024,
        prompt="compact",
        max_new_tokens=16,
        max_eval_examples=None,
        test_fraction=0.25,
        systems=["nearest", "tuned+constrained"],
        constrained=False,
    )
    scrubber = PresidioScrubber("surrogate", "regex", show_progress=False)
    run_dir = train_and_evaluate("clinical", cfg, name="windows", scrubber=scrubber)
    report = json.loads((run_dir / "data_report.json").read_text())
    windows = report["training_windows"]
    assert windows["examples_split"] == windows["examples"] > 0 and windows["windows"] > windows["examples"]
    results = json.loads((run_dir / "results.json").read_text())
    tokens = results["training"]["train_tokens"]
    assert tokens["examples"] + tokens["dropped_too_long"] == windows["windows"]  # the adapter saw the windows
    tuned = results["systems"]["tuned+constrained"]
    assert tuned["n"] == report["splits"]["test"] > 0
    assert tuned["generated_tokens"] > tuned["n"] * 16  # more than one answer of at most 16 tokens per visit


def test_windows_are_the_default_with_the_built_in_form_only(tmp_path):
    assert get_pack("clinical").window_chars == 1600
    assert get_pack("clinical", {"window_chars": 0}).window_chars == 0
    schema = tmp_path / "form.yaml"
    schema.write_text("fields:\n  pain: string\n", encoding="utf-8")
    assert get_pack("clinical", {"schema_file": str(schema)}).window_chars == 0  # no error: windows were not asked


def test_a_run_answers_with_the_windows_it_was_trained_with():
    trained = get_pack("clinical")
    reopened = get_pack("clinical")
    reopened.load_state(trained.state())
    assert reopened.window_chars == 1600
    before_windows = get_pack("clinical")
    before_windows.load_state({"decoding_max_items": 12, "decoding_max_chars": 80})  # a run from before the default
    assert before_windows.window_chars == 0
    explicit = get_pack("clinical", {"window_chars": 900})
    explicit.load_state({})
    assert explicit.window_chars == 900
