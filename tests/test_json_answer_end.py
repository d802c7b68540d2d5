"""Free answers of extraction packs end where their JSON object closes, once a long preamble shows no object is
coming, or once an unfinished object is caught in a verbatim loop: the parsed answer never changes for an answer
whose first object completes, and decoding stops early."""

import functools

import pytest

from core.config import build_config
from core.generate import CHECK_EVERY, Decoding, answer_end_stopper
from core.models import load_tokenizer
from core.pack import get_pack
from core.parsing import JSON_START_WITHIN, caught_in_loop, first_json_object, json_answer_end

COMPLETE = [
    'Here is the form: {"age": 5, "note": "a } in a string", "items": [{"n": 1}]} and then more text {"x": 2}',
    '{"a": {"b": {"c": []}}}\n\nVisit text: {"a": 1}',
    '```json\n{"sex": "female"}\n```',
]


@pytest.mark.parametrize("text", COMPLETE)
def test_cutting_at_the_end_keeps_the_parsed_answer(text):
    end = json_answer_end(text)
    assert end is not None and text[:end].endswith("}")
    assert first_json_object(text[:end]) == first_json_object(text)
    for k in range(1, end):  # while the object is still open, the rule waits (it is checked as tokens arrive)
        assert json_answer_end(text[:k]) is None


def test_an_answer_without_an_object_is_given_up_after_the_preamble_limit():
    prose = "[doctor] hi , how are you ? " * 20
    assert json_answer_end(prose[: JSON_START_WITHIN - 1]) is None
    assert json_answer_end(prose) == JSON_START_WITHIN
    late = "x" * JSON_START_WITHIN + '{"a": 1}'
    assert json_answer_end(late) == JSON_START_WITHIN  # an object after the limit is not waited for


def test_an_unfinished_object_is_waited_for():
    assert json_answer_end('{"medications": [{"name": "lisinopril", "dose": "10 mg"') is None
    long_list = '{"a": 1, "b": [' + ", ".join(str(i) for i in range(200))
    assert json_answer_end(long_list) is None  # long, but it started in time and is not a loop


LOOPS = [
    'Here is the JSON data:\n{\n  "data": {\n    "email": "' + "john-" * 20,
    '{\n  "doctor": {\n    "age": 30,\n' + '    "name": "Dr. Smith",\n' * 4,
    '{"medications": [' + '{"name": "aspirin", "dose": "81 mg"}, ' * 3,
    '{"symptoms": ["pain"' + ", null" * 12,
    '{"plan": "' + "I'll also provide you with a list of medical procedures that you may need to undergo. " * 3,
    '{\n  "depends_on_gender": true,\n' + "".join(f'  "depends_on_gender_{i}": true,\n' for i in range(3, 13)),
]


@pytest.mark.parametrize("text", LOOPS)
def test_an_unfinished_object_caught_in_a_loop_ends(text):
    assert caught_in_loop(text)
    first_repeat = max(len(text) // 3, 40)
    assert not caught_in_loop(text[:first_repeat])  # not before the unit has repeated enough
    assert json_answer_end(text) == len(text)
    assert json_answer_end(text, end_loops=False) is None


NOT_LOOPS = [
    '{"chief_complaint": "knee pain", "medications": [{"name": "lisinopril", "dose": "10 mg"}, {"name": "metformin"',
    '{"vitals": {"blood_pressure": null, "heart_rate": null, "temperature": null, "respiratory_rate": null',
    '{"symptoms": ["pain", "pain", "swelling", "fever", "fatigue", "nausea", "cough", "headache", "dizziness"',
    '{"readings": [' + ", ".join(str(100 + 7 * i) for i in range(40)),  # numbers alone are not a counting loop
]


@pytest.mark.parametrize("text", NOT_LOOPS)
def test_repeats_short_of_a_loop_are_waited_for(text):
    assert not caught_in_loop(text)
    assert json_answer_end(text) is None


def test_a_complete_object_ends_at_its_close_even_after_a_loop():
    text = '{"note": "' + "ha" * 40 + '"} trailing'
    assert json_answer_end(text) == text.index("}") + 1


def test_extraction_packs_end_after_json_unless_the_run_turns_it_off():
    clinical, legal, ecommerce = get_pack("clinical"), get_pack("legal"), get_pack("ecommerce")
    default = Decoding.for_run(clinical).answer_end
    assert isinstance(default, functools.partial) and default.func is json_answer_end
    assert default.keywords == {"end_loops": True}
    no_loops = build_config(overrides={"decoding": {"end_loops": False}})
    assert Decoding.for_run(clinical, no_loops).answer_end.keywords == {"end_loops": False}  # type: ignore[union-attr]
    off = build_config(overrides={"decoding": {"end_after_json": False}})
    assert Decoding.for_run(clinical, off).answer_end is None
    assert Decoding.for_run(legal).answer_end is None
    free_text = Decoding.for_run(ecommerce).answer_end  # its repeated-line rule and length range, no JSON end
    assert free_text is not None and getattr(free_text, "func", None) is not json_answer_end
    unkept = build_config(overrides={"decoding": {"keep_length": False}})
    assert Decoding.for_run(ecommerce, unkept).answer_end == ecommerce.repeated_line_start


def test_stopper_checks_rows_without_boundary_tokens_every_few_steps(tiny_model):
    import torch

    tok = load_tokenizer(str(tiny_model))
    seen: list[str] = []

    def rule(text: str) -> int | None:
        seen.append(text)
        return len(text)

    stopper = answer_end_stopper(tok, 1, rule)
    word = tok.encode("x", add_special_tokens=False)[0]
    assert stopper(torch.tensor([[word] * (CHECK_EVERY - 1)]), None).tolist() == [False] and not seen
    assert stopper(torch.tensor([[word] * (CHECK_EVERY + 1)]), None).tolist() == [True] and len(seen) == 1


@pytest.fixture
def generator(tiny_generator):
    return tiny_generator


def test_a_batch_whose_answers_never_start_an_object_stops_early(generator):
    prompts = [[{"role": "user", "content": t}] for t in ("visit one", "visit two")]
    budget = JSON_START_WITHIN + 40
    free = generator.generate(prompts, max_new_tokens=budget, batch_size=2)
    assert all(g.new_tokens == budget and set(g.token_ids) == {201} for g in free), "the fixture writes newlines"
    ended = generator.generate(prompts, max_new_tokens=budget, batch_size=2, answer_end=json_answer_end)
    # one character per token: both rows stop at the preamble limit, and the batch with them
    assert [g.new_tokens for g in ended] == [JSON_START_WITHIN, JSON_START_WITHIN]
    assert all(set(g.token_ids) == {201} for g in ended)
