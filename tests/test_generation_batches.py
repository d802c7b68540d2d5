"""Generation batches: similar prompt lengths together, at most `batch_size` rows and, with a token cap, at most that
many tokens of (longest prompt + answer) x rows, so short prompts share big batches and long ones small ones."""

from __future__ import annotations

from core.generate import Generator, plan_batches


def test_rows_are_capped_and_longest_prompts_come_first():
    batches = plan_batches([5, 9, 7, 3, 8], batch_size=2)
    assert batches == [[1, 4], [2, 0], [3]]


def test_the_token_cap_gives_short_prompts_bigger_batches():
    lengths = [1000, 1000, 200, 200, 200, 200, 200, 200]
    batches = plan_batches(lengths, batch_size=16, batch_tokens=2400, max_new_tokens=200)
    assert batches == [[0, 1], [2, 3, 4, 5, 6, 7]]  # 2 x 1,200 tokens, then 6 x 400
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))


def test_a_prompt_longer_than_the_cap_still_gets_a_batch_of_its_own():
    assert plan_batches([5000, 4000, 10], batch_size=8, batch_tokens=1000, max_new_tokens=100) == [[0], [1], [2]]


def test_without_a_token_cap_length_does_not_matter():
    assert plan_batches([5000, 4000, 10], batch_size=8) == [[0, 1, 2]]


def test_token_capped_batches_give_the_same_answers(tiny_model):
    from core.models import load_model, load_tokenizer

    tok = load_tokenizer(str(tiny_model))
    model = load_model(str(tiny_model), for_training=False)
    prompts = [
        [{"role": "user", "content": text}]
        for text in ("Governing law: New York. " * 6, "Either party may terminate.", "No assignment.", "Notices.")
    ]
    gen = Generator(model, tok, reuse_prefix=False)
    whole: list[int] = []
    capped: list[int] = []
    one_batch = gen.generate(prompts, max_new_tokens=6, batch_size=8, on_batch=whole.append)
    split = gen.generate(prompts, max_new_tokens=6, batch_size=8, batch_tokens=120, on_batch=capped.append)
    assert whole == [4]
    assert len(capped) > 1 and sum(capped) == 4  # the long prompt alone, the short ones together
    assert [g.token_ids for g in split] == [g.token_ids for g in one_batch]
