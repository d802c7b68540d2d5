"""Free answers of extraction packs end where their JSON object closes, or once a long preamble shows no object is
coming: the parsed answer never changes for an answer whose first object completes, and decoding stops early."""

import pytest

from core.config import build_config
from core.generate import CHECK_EVERY, Decoding, answer_end_stopper
from core.models import load_tokenizer
from core.pack import get_pack
from core.parsing import JSON_START_WITHIN, first_json_object, json_answer_end

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
    assert json_answer_end('{"a": 1, "b": ' + "[1, " * 200) is None  # long, but it started in time


def test_extraction_packs_end_after_json_unless_the_run_turns_it_off():
    clinical, legal, ecommerce = get_pack("clinical"), get_pack("legal"), get_pack("ecommerce")
    assert Decoding.for_run(clinical).answer_end is json_answer_end
    off = build_config(overrides={"decoding": {"end_after_json": False}})
    assert Decoding.for_run(clinical, off).answer_end is None
    assert Decoding.for_run(legal).answer_end is None
    assert Decoding.for_run(ecommerce).answer_end == ecommerce.repeated_line_start


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
