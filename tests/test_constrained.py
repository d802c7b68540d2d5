"""Constrained decoding on the tiny (random) fixture model: constrained outputs always validate, unconstrained
ones do not."""

from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError


class Intake(BaseModel):
    label: Literal["urgent", "routine"]
    smoker: bool
    note: str = Field(max_length=8)


PROMPTS = [[{"role": "user", "content": f"Classify visit {i}: Liability shall not exceed the fees."}] for i in range(6)]


@pytest.fixture
def generator(tiny_generator):
    return tiny_generator


def _valid(text: str) -> bool:
    try:
        Intake.model_validate_json(text)
        return True
    except ValidationError:
        return False


def test_json_schema_constrained_always_valid(generator):
    outs = generator.generate(PROMPTS, max_new_tokens=96, batch_size=3, json_schema=Intake.model_json_schema())
    assert all(_valid(o.text) for o in outs), [o.text for o in outs]
    free = generator.generate(PROMPTS, max_new_tokens=96, batch_size=3)
    assert not all(_valid(o.text) for o in free)


def test_choice_constrained_outputs_are_in_the_set(generator):
    choices = ['{"label": "Governing Law"}', '{"label": "Anti-Assignment"}', '{"label": "Cap on Liability"}']
    outs = generator.generate(PROMPTS, max_new_tokens=40, batch_size=4, choices=choices)
    assert all(o.text in choices for o in outs), [o.text for o in outs]


def test_pack_constraint_prefers_choices():
    from core.pack import get_pack

    pack = get_pack("legal")
    pack.definitions = {"A": "", "B": ""}
    assert set(pack.constraint()) == {"choices"}
    assert pack.output_json_schema()["properties"]["label"]["enum"] == ["A", "B"]


class Tags(BaseModel):
    tags: list[str]
    kind: Literal["a", "b"] | None = None


def test_bound_schema_caps_lists_and_free_strings_only():
    from core.constrained import bound_schema

    schema = {"type": "object", "properties": {
        "xs": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
        "kept": {"type": "array", "maxItems": 9, "items": {"type": "string", "enum": ["p", "q"]}},
        "code": {"type": "string", "pattern": "^[A-Z]+$"},
    }}  # fmt: skip
    bounded = bound_schema(schema, max_items=4, max_chars=30)
    xs = bounded["properties"]["xs"]["anyOf"][0]
    assert xs["maxItems"] == 4 and xs["items"]["maxLength"] == 30
    assert bounded["properties"]["kept"]["maxItems"] == 9 and "maxLength" not in bounded["properties"]["kept"]["items"]
    assert "maxLength" not in bounded["properties"]["code"]
    assert "maxItems" not in schema["properties"]["xs"]["anyOf"][0]  # the input is not modified


def test_bounded_schema_keeps_answers_complete_within_budget(generator):
    from core.constrained import bound_schema
    from core.parsing import has_json_object

    schema = bound_schema(Tags.model_json_schema(), max_items=2, max_chars=6)
    outs = generator.generate(PROMPTS, max_new_tokens=120, batch_size=3, json_schema=schema)
    for out in outs:
        assert has_json_object(out.text), out.text
        tags = Tags.model_validate_json(out.text).tags
        assert len(tags) <= 2 and all(len(t) <= 6 for t in tags), out.text


def test_answers_that_run_long_are_closed_before_the_budget_ends(generator):
    from core.parsing import has_json_object

    schema = Tags.model_json_schema()  # unbounded: a random model writes long strings and lists
    for budget in (20, 30, 50, 80):
        outs = generator.generate(PROMPTS, max_new_tokens=budget, batch_size=3, json_schema=schema)
        assert all(has_json_object(o.text) and o.new_tokens <= budget for o in outs), [o.text for o in outs]


def test_schema_mask_is_the_enforcers_tokens_without_control_and_finished_rows_only_end(generator):
    """The mask-based processor allows exactly what lm-format-enforcer allows (minus raw control tokens) on the
    model's full vocabulary width, and a finished row may only repeat the end of turn."""
    import torch
    from lmformatenforcer import JsonSchemaParser, TokenEnforcer

    from core.constrained import _control_ids, _tokenizer_data, json_schema_processor, turn_end_id

    tok = generator.tokenizer
    schema = Intake.model_json_schema()
    width = generator.model.config.vocab_size
    eot = turn_end_id(tok)
    prefix = tok('{"label": "', add_special_tokens=False)["input_ids"]
    rows = torch.tensor([[7, *prefix], [7, *prefix[:-1], eot]])
    scores = torch.zeros(2, width)
    out = json_schema_processor(tok, schema, 1, 96)(rows, scores)
    enforcer = TokenEnforcer(_tokenizer_data(tok), JsonSchemaParser(schema))
    for i in range(len(prefix)):  # the enforcer follows an answer token by token from its start
        enforcer.get_allowed_tokens(prefix[:i])
    expected = set(enforcer.get_allowed_tokens(prefix).allowed_tokens) - _control_ids(tok)
    assert expected == {tok.convert_tokens_to_ids(t) for t in ("u", "r")}  # "urgent" or "routine"
    assert set(torch.nonzero(out[0] == 0).flatten().tolist()) == expected
    assert torch.nonzero(out[1] == 0).flatten().tolist() == [eot]
    assert out.shape == (2, width)


def test_token_list_masks_are_built_once_per_list_object():
    from core.constrained import _IdMasks

    masks = _IdMasks(10, cache_size=2)
    first = [1, 3]
    assert masks.allowed(first) is masks.allowed(first)
    assert masks.allowed(first).nonzero().flatten().tolist() == [1, 3]
    assert masks.allowed([1, 3]) is not masks.allowed(first)  # equal content, another state: its own entry
    masks.allowed([2])
    masks.allowed([4])  # the cache holds two lists: the oldest went first
    assert len(masks._allowed) == 2
    assert masks.of(frozenset({0, 9})).nonzero().flatten().tolist() == [0, 9]


def test_token_texts_are_each_tokens_own_decoding(generator):
    from core.vocab import token_texts

    tok = generator.tokenizer
    texts = token_texts(tok)
    assert len(texts) == len(tok)
    assert all(texts[i] == tok.decode([i]) for i in range(0, len(tok), max(1, len(tok) // 200)))
    assert token_texts(tok) is texts  # decoded once per tokenizer
