"""Prompt-prefix KV reuse: running the shared system prompt once and copying its cache to every row must give the
same greedy answers as running every prompt in full (fp32, where the two are the same arithmetic)."""

from __future__ import annotations

from core.generate import MIN_SHARED_PREFIX, Generator, chat_ids, shared_prefix


def test_shared_prefix_keeps_one_token_of_each_row():
    assert shared_prefix([[1, 2, 3, 4], [1, 2, 3, 5]]) == 3
    assert shared_prefix([[1, 2], [1, 2, 3]]) == 1  # the shortest row keeps a token of its own
    assert shared_prefix([]) == 0


def test_reusing_the_prefix_cache_changes_no_answer(tiny_model):
    from core.models import load_model, load_tokenizer

    tok = load_tokenizer(str(tiny_model))
    model = load_model(str(tiny_model), for_training=False)
    system = "You label contract clauses. " * 12  # a long shared prefix, as a pack's system prompt is
    prompts = [
        [{"role": "system", "content": system}, {"role": "user", "content": text}]
        for text in ("Governing law: New York.", "Either party may terminate.", "No assignment without consent.")
    ]
    ids = [chat_ids(tok, p, add_generation_prompt=True) for p in prompts]
    assert shared_prefix(ids) >= MIN_SHARED_PREFIX  # the test exercises the cached path
    full = Generator(model, tok, reuse_prefix=False).generate(prompts, max_new_tokens=10, batch_size=2)
    reused = Generator(model, tok, reuse_prefix=True).generate(prompts, max_new_tokens=10, batch_size=2)
    assert [g.token_ids for g in reused] == [g.token_ids for g in full]
