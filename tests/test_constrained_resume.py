"""Constrained decoding that resumes from the free twin's greedy answer (core.constrained.accepted_part,
Generator.generate's `earlier`): on the tiny fixture model in fp32 the answers are the same as decoding from
scratch, whatever part of the earlier answer the constraint accepts, and an accepted whole answer costs no decoding."""

from __future__ import annotations

import dataclasses
from typing import Literal

import pytest
from pydantic import BaseModel, Field

PROMPTS = [[{"role": "user", "content": f"Visit {i}: the patient takes aspirin daily."}] for i in range(6)]


class Form(BaseModel):
    label: Literal["urgent", "routine"]
    drugs: list[str] = Field(max_length=3)
    note: str = Field(max_length=12)


SCHEMA = Form.model_json_schema()


@pytest.fixture(scope="module")
def fresh(tiny_generator):
    """Constrained answers decoded from scratch, at two budgets (the short one runs into the closing reserve)."""
    return {
        budget: tiny_generator.generate(PROMPTS, max_new_tokens=budget, batch_size=3, json_schema=SCHEMA)
        for budget in (24, 96)
    }


def _replay(generator, budget):
    from core.constrained import json_schema_processor

    return json_schema_processor(generator.tokenizer, SCHEMA, 0, budget)


def _refused(generator, budget, prefix):
    """A token the constraint refuses after `prefix` (an unconstrained model could have chosen it)."""
    import torch

    width = generator.model.config.vocab_size
    allowed = _replay(generator, budget)(torch.tensor([list(prefix)]).reshape(1, -1), torch.zeros(1, width))
    return int(torch.nonzero(~allowed[0].isfinite())[0])


def _earlier(gen, tokens):
    return dataclasses.replace(gen, token_ids=tuple(tokens), raw_greedy=True, seconds=1.0)


@pytest.mark.parametrize("budget", [24, 96])
def test_accepted_part_finds_where_a_free_answer_leaves_the_constraint(tiny_generator, fresh, budget):
    from core.constrained import accepted_part
    from core.formatting import end_of_turn_ids

    stops = end_of_turn_ids(tiny_generator.tokenizer)
    width = tiny_generator.model.config.vocab_size
    for gen in fresh[budget]:
        tokens = list(gen.token_ids)
        replay = _replay(tiny_generator, budget)
        kw = {"vocab_width": width, "stop_ids": stops, "max_new_tokens": budget}
        assert accepted_part(replay, tokens, **kw) == (len(tokens), True)  # the constrained answer itself
        j = len(tokens) // 2
        assert accepted_part(replay, [*tokens[:j], _refused(tiny_generator, budget, tokens[:j])], **kw) == (j, False)
        if tokens[-1] in stops:  # cut where the object closes (a free answer's stop rule): nothing left to decode
            assert accepted_part(replay, tokens[:-1], **kw) == (len(tokens) - 1, True)


@pytest.mark.parametrize("budget", [24, 96])
def test_resumed_answers_equal_answers_decoded_from_scratch(tiny_generator, fresh, budget):
    earlier = []
    for n, gen in enumerate(fresh[budget]):
        tokens = list(gen.token_ids)
        j = [0, 1, len(tokens) // 3, len(tokens) // 2, len(tokens) - 2, len(tokens)][n]
        tail = [_refused(tiny_generator, budget, tokens[:j])] if j < len(tokens) else []
        earlier.append(_earlier(gen, tokens[:j] + tail))
    resumed = tiny_generator.generate(PROMPTS, max_new_tokens=budget, batch_size=3, json_schema=SCHEMA, earlier=earlier)
    assert [r.text for r in resumed] == [g.text for g in fresh[budget]]
    assert all(r.new_tokens <= budget for r in resumed)
    assert [r.token_ids for r in resumed] == [g.token_ids for g in fresh[budget]]
    whole = resumed[-1]  # accepted whole: returned without decoding, its cost is the earlier answer's
    assert whole.batch_seconds == 0.0 and whole.reused_tokens == len(whole.token_ids) and whole.reused_seconds == 1.0
    assert resumed[0].reused_tokens == 0 and resumed[0].reused_seconds == 0.0
    assert resumed[2].reused_tokens == len(fresh[budget][2].token_ids) // 3


def test_only_raw_greedy_answers_are_resumed(tiny_generator, fresh):
    """An answer made with a penalty, a bonus or a constraint is not what greedy decoding would have written."""
    gens = fresh[96]
    wrong = [dataclasses.replace(g, raw_greedy=False, token_ids=(_refused(tiny_generator, 96, []),)) for g in gens]
    resumed = tiny_generator.generate(PROMPTS, max_new_tokens=96, batch_size=3, json_schema=SCHEMA, earlier=wrong)
    assert [r.text for r in resumed] == [g.text for g in gens]
    assert all(r.reused_tokens == 0 for r in resumed)


def test_free_answers_are_marked_raw_greedy_and_constrained_ones_not(tiny_generator, fresh):
    free = tiny_generator.generate(PROMPTS[:2], max_new_tokens=8, batch_size=2)
    assert all(g.raw_greedy for g in free)
    penalised = tiny_generator.generate(PROMPTS[:2], max_new_tokens=8, batch_size=2, repetition_penalty=1.3)
    assert not any(g.raw_greedy for g in penalised)
    assert not any(g.raw_greedy for g in fresh[24])


def test_the_free_twins_real_answers_resume_to_the_same_constrained_answers(tiny_generator, fresh):
    free = tiny_generator.generate(PROMPTS, max_new_tokens=96, batch_size=3)
    resumed = tiny_generator.generate(PROMPTS, max_new_tokens=96, batch_size=3, json_schema=SCHEMA, earlier=free)
    assert [r.text for r in resumed] == [g.text for g in fresh[96]]


def test_a_constrained_twin_after_its_free_twin_answers_as_it_does_alone(small_run):
    """In an evaluation the free twin runs first and leaves its greedy answers in the context; the constrained twin
    resumes from them and answers exactly as it does in a context of its own, its cost counting what it reused."""
    from core.loaded_run import open_run
    from core.run_folder import RunFolder
    from core.systems import OutputMode, PromptedSystem, Prompting, SystemContext, Weights

    loaded = open_run(small_run)
    folder = RunFolder(small_run)
    test = folder.load_split("test")

    def context() -> SystemContext:
        return SystemContext(
            pack=loaded.pack,
            config=loaded.config,
            train=folder.load_split("train"),
            dev=[],
            open_model=lambda: loaded,
            tuned_available=True,
        )

    for weights in (Weights.BASE, Weights.TUNED):
        free = PromptedSystem(Prompting.ZERO_SHOT, weights, OutputMode.FREE)
        alone = free.constrained().answer(context(), test)
        shared = context()
        free.answer(shared, test)
        assert len(shared.cache["free_answers"][(Prompting.ZERO_SHOT, weights)]) == len(test)
        after = free.constrained().answer(shared, test)
        assert [a.text for a in after] == [a.text for a in alone]
        assert all(a.latency >= a.reused_seconds >= 0.0 for a in after)
