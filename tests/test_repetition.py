"""Repetition control for free-text answers: verbatim repeats inside one answer are blocked, phrases copied from
the prompt are not, and every caller decodes with the pack's settings unless the run overrides them."""

from collections import Counter

import pytest
import torch

from core.config import build_config
from core.generate import Decoding, repetition_processors
from core.models import load_tokenizer
from core.pack import get_pack


def _repeats(ids: list[int], n: int) -> bool:
    return any(v > 1 for v in Counter(tuple(ids[i : i + n]) for i in range(len(ids) - n + 1)).values())


def test_ngram_ban_counts_the_answer_not_the_prompt():
    (ban,) = repetition_processors(3, 1.0, prompt_width=4)
    prompt = [5, 6, 7, 8]
    scores = torch.zeros(1, 20)
    # the answer "5 6" follows a prompt holding "5 6 7": copying the prompt's phrase stays allowed
    out = ban(torch.tensor([[*prompt, 5, 6]]), scores.clone())
    assert torch.isfinite(out).all()
    # the answer already said "9 10 11" and now says "9 10" again: 11 is banned, nothing else
    out = ban(torch.tensor([[*prompt, 9, 10, 11, 9, 10]]), scores.clone())
    assert out[0, 11] == float("-inf") and torch.isfinite(out[0, :11]).all() and torch.isfinite(out[0, 12:]).all()


def test_repetition_penalty_ignores_the_prompt():
    (penalty,) = repetition_processors(0, 2.0, prompt_width=3)
    scores = torch.ones(1, 10)
    out = penalty(torch.tensor([[1, 2, 3, 4]]), scores.clone())
    assert out[0, 4] == 0.5 and (out[0, [1, 2, 3]] == 1.0).all()


@pytest.fixture
def generator(tiny_generator):
    return tiny_generator


def test_generated_answers_never_repeat_an_ngram(generator):
    prompts = [[{"role": "user", "content": t}] for t in ("hello there", "a product", "x y z", "wash cold")]

    def answers(**kw):
        return [list(g.token_ids) for g in generator.generate(prompts, max_new_tokens=40, batch_size=4, **kw)]

    free = answers()
    assert any(_repeats(ids, 3) for ids in free), "the untrained fixture model should loop without control"
    controlled = answers(no_repeat_ngram_size=3)
    assert controlled != free
    assert not any(_repeats(ids, 3) for ids in controlled)


def test_decoding_comes_from_pack_then_run_config():
    ecommerce, legal = get_pack("ecommerce"), get_pack("legal")
    shipped = Decoding.for_run(ecommerce)
    low, _ = ecommerce.answer_words()
    assert (shipped.max_new_tokens, shipped.no_repeat_ngram_size, shipped.repetition_penalty) == (160, 6, 1.2)
    assert shipped.coverage_bonus == 1.0 and shipped.min_words == low  # answers kept inside the style's range
    assert shipped.answer_end is not None  # the repeated-line rule and the range's end, whichever comes first
    unkept = build_config(overrides={"decoding": {"keep_length": False}})
    assert Decoding.for_run(ecommerce, unkept) == Decoding(
        max_new_tokens=160,
        no_repeat_ngram_size=6,
        repetition_penalty=1.2,
        answer_end=ecommerce.repeated_line_start,
        coverage_bonus=1.0,
    )
    legal_decoding = Decoding.for_run(legal)
    assert legal_decoding.no_repeat_ngram_size == 0  # JSON answers repeat structure by design
    assert legal_decoding.repetition_penalty == 1.0  # and a label's tokens must stay free to recur
    cfg = build_config(
        overrides={"decoding": {"no_repeat_ngram_size": 0, "repetition_penalty": 1.0, "max_new_tokens": 99,
                                "keep_length": False}}
    )  # fmt: skip
    assert Decoding.for_run(ecommerce, cfg) == Decoding(99, 0, 1.0, ecommerce.repeated_line_start, 1.0)
    cfg = build_config(overrides={"repetition_penalty": 1.5})
    assert Decoding.for_run(legal, cfg).repetition_penalty == 1.5


def test_answers_end_where_the_answer_end_rule_says(generator):
    prompts = [[{"role": "user", "content": t}] for t in ("hello there", "a product", "x y z", "wash cold")]
    free = generator.generate(prompts, max_new_tokens=20, batch_size=4)
    assert all(g.new_tokens == 20 and set(g.token_ids) == {201} for g in free), "the fixture model writes newlines"
    checked: list[str] = []

    def third_line(text: str) -> int | None:
        checked.append(text)
        return len(text) if text.count("\n") >= 3 else None

    cut = generator.generate(prompts, max_new_tokens=20, batch_size=4, answer_end=third_line)
    assert [g.new_tokens for g in cut] == [3, 3, 3, 3]  # decoding stopped at the third line end, for every row
    assert "\n\n\n" in checked


def test_constrained_answers_ignore_the_answer_end_rule(generator):
    prompts = [[{"role": "user", "content": "pick one"}]]
    choices = ["Governing Law.", "Cap on Liability."]
    plain = generator.generate(prompts, max_new_tokens=12, choices=choices)
    ruled = generator.generate(prompts, max_new_tokens=12, choices=choices, answer_end=lambda t: 0)
    assert ruled[0].text == plain[0].text and ruled[0].text in choices


def test_stopper_checks_rows_at_line_and_sentence_ends_only(tiny_model):
    from core.generate import answer_end_stopper

    tok = load_tokenizer(str(tiny_model))
    seen: list[str] = []

    def rule(text: str) -> int | None:
        seen.append(text)
        return 0 if text.count("Wash.") > 1 else None

    stopper = answer_end_stopper(tok, 1, rule)
    rows = [tok.encode("x Wash. Wash.", add_special_tokens=False), tok.encode("x Wash. Wash", add_special_tokens=False)]
    width = max(map(len, rows))
    ids = torch.tensor([[0] * (width - len(r)) + r for r in rows])
    done = stopper(ids, None)
    assert done.tolist() == [True, False]
    assert len(seen) == 1  # the second row does not end a sentence, so it was not decoded


def test_end_at_repeated_line_comes_from_pack_then_run_config():
    ecommerce, legal = get_pack("ecommerce"), get_pack("legal")
    assert Decoding.for_run(legal).answer_end is None
    unkept = {"keep_length": False}  # the length range's own end aside
    on = Decoding.for_run(ecommerce, build_config(overrides={"decoding": {"end_at_repeated_line": True, **unkept}}))
    off = Decoding.for_run(ecommerce, build_config(overrides={"decoding": {"end_at_repeated_line": False, **unkept}}))
    assert on.answer_end is not None and off.answer_end is None
    assert on.answer_end("Soft tee.\n- Machine wash/dry.\n- Machine wash.") == len("Soft tee.\n- Machine wash/dry.\n")
