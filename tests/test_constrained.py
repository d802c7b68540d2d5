"""Constrained decoding on the tiny (random) fixture model: constrained outputs always validate, unconstrained
ones do not."""

from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from core.generate import Generator


class Intake(BaseModel):
    label: Literal["urgent", "routine"]
    smoker: bool
    note: str = Field(max_length=8)


PROMPTS = [[{"role": "user", "content": f"Classify visit {i}: Liability shall not exceed the fees."}] for i in range(6)]


@pytest.fixture(scope="module")
def generator(tiny_model):
    from core.models import load_model, load_tokenizer

    return Generator(load_model(str(tiny_model), for_training=False), load_tokenizer(str(tiny_model)))


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
