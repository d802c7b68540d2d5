"""The rolling generation batch (core.rolling_batch): at most `batch_size` rows and, with a token cap, at most that
many tokens of (width + answer budget) x rows; a row leaves as soon as its answer ends and a waiting prompt takes
its place; the answers are the ones each prompt gets alone (fp32, tiny model)."""

from __future__ import annotations

import pytest

from core.rolling_batch import Row, _admit

PROMPTS = [
    [{"role": "user", "content": text}]
    for text in (
        "Governing law: New York. " * 6,
        "Either party may terminate.",
        "No assignment.",
        "Notices.",
        "The licensee shall pay royalties quarterly. " * 3,
        "Audit rights.",
        "Exclusivity in the territory.",
    )
]


def _rows(lengths: list[int]) -> list[Row]:
    return [Row(i, [1] * n) for i, n in enumerate(lengths)]


def test_rows_are_capped_by_batch_size():
    queue = _rows([9, 8, 7, 5, 3])
    assert [r.index for r in _admit(queue, [], 0, 2, None, 10)] == [0, 1]
    assert [r.index for r in queue] == [2, 3, 4]


def test_the_token_cap_gives_short_prompts_bigger_batches():
    long, short = _rows([1000, 1000]), _rows([200] * 6)
    assert len(_admit(long + short, [], 0, 16, 2400, 200)) == 2  # 2 x 1,200 tokens
    assert len(_admit(short, [], 0, 16, 2400, 200)) == 6  # 6 x 400


def test_a_prompt_longer_than_the_cap_still_gets_a_batch_of_its_own():
    assert len(_admit(_rows([5000, 4000]), [], 0, 8, 1000, 100)) == 1


def test_newcomers_are_counted_at_the_running_batchs_width():
    running = _rows([10, 10])
    assert len(_admit(_rows([10, 10, 10]), running, 500, 16, 2400, 100)) == 2  # 4 x (500 + 100) = 2,400


@pytest.fixture(scope="module")
def generator(tiny_model):
    """The tiny model with its weights shaken (seeded), so its greedy answers differ from prompt to prompt."""
    import torch

    from core.generate import Generator
    from core.models import load_model, load_tokenizer

    model = load_model(str(tiny_model), for_training=False)
    torch.manual_seed(1)
    with torch.no_grad():
        for weight in model.parameters():
            weight.add_(torch.randn_like(weight) * 0.3)
    return Generator(model, load_tokenizer(str(tiny_model)))


def _ends_after_second_r(text: str) -> int | None:
    """An answer-end rule that ends answers at different lengths, so rows leave the batch at different steps."""
    first = text.find("r")
    second = text.find("r", first + 1) if first >= 0 else -1
    return second + 1 if second >= 0 else None


@pytest.mark.parametrize("reuse_prefix", [False, True])
def test_rolling_batches_give_each_prompt_its_answer_alone(generator, reuse_prefix, monkeypatch):
    import core.rolling_batch as rolling_batch

    widths: list[tuple[int, int]] = []
    keep_rows = rolling_batch._keep_rows

    def recorded(seqs, *args):
        out = keep_rows(seqs, *args)
        widths.append((seqs.shape[1], out[0].shape[1]))
        return out

    monkeypatch.setattr(rolling_batch, "_keep_rows", recorded)
    generator.reuse_prefix = reuse_prefix
    kw = {"max_new_tokens": 24, "answer_end": _ends_after_second_r}
    alone = [generator.generate([p], batch_size=1, **kw)[0] for p in PROMPTS]
    widths.clear()
    done: list[int] = []
    rolling = generator.generate(PROMPTS, batch_size=3, batch_tokens=400, on_batch=done.append, **kw)
    assert any(after < before for before, after in widths)  # a long prompt left: its padding went too
    assert [g.token_ids for g in rolling] == [g.token_ids for g in alone]
    assert [g.text for g in rolling] == [g.text for g in alone]
    assert sum(done) == len(PROMPTS)
    assert len({len(g.token_ids) for g in rolling}) > 2  # rows did leave at different steps
    assert all(g.new_tokens <= 24 and g.seconds > 0 and g.batch_seconds >= g.seconds for g in rolling)


def test_rolling_constrained_and_penalised_batches_match_single_prompts(generator):
    from pydantic import BaseModel, Field

    class Tags(BaseModel):
        tags: list[str] = Field(max_length=3)

    generator.reuse_prefix = True
    for kw in (
        {"json_schema": Tags.model_json_schema(), "max_new_tokens": 40},
        {"no_repeat_ngram_size": 2, "repetition_penalty": 1.3, "max_new_tokens": 20},
    ):
        alone = [generator.generate([p], batch_size=1, **kw)[0] for p in PROMPTS]
        rolling = generator.generate(PROMPTS, batch_size=2, **kw)
        assert [g.text for g in rolling] == [g.text for g in alone], kw


def test_a_newcomer_longer_than_the_running_batch_widens_it(generator, monkeypatch):
    """Callers queue the longest prompts first, but a newcomer may be wider than the running rows (a resumed
    answer's tokens count): the running rows and their cache are padded on the left, and nothing changes."""
    import torch

    import core.rolling_batch as rolling_batch
    from core.formatting import chat_ids
    from core.generate import answer_end_stopper, budget_stopper
    from core.rolling_batch import Hooks, decode_rolling

    widened: list[int] = []
    pad_left = rolling_batch._pad_cache_left
    monkeypatch.setattr(rolling_batch, "_pad_cache_left", lambda cache, n: (widened.append(n), pad_left(cache, n)))
    tok = generator.tokenizer
    ids = [chat_ids(tok, p, add_generation_prompt=True) for p in PROMPTS]
    shortest_first = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    answers: dict[tuple[int, int], list[int]] = {}
    for size in (1, 2):
        with torch.inference_mode():
            decode_rolling(
                generator.model,
                [Row(i, ids[i]) for i in shortest_first],
                batch_size=size,
                batch_tokens=None,
                max_new_tokens=12,
                prefix=None,
                pad_id=tok.pad_token_id,
                stop_ids=[tok.eos_token_id],
                hooks=Hooks(
                    lambda starts, rows: [],
                    lambda starts, rows: [
                        answer_end_stopper(tok, starts, _ends_after_second_r),
                        budget_stopper(starts, 12),
                    ],
                ),
                generate_kwargs={"do_sample": False, "temperature": None, "top_p": None, "top_k": None},
                on_finished=lambda done, size=size: answers.__setitem__((size, done.row.index), done.answer),
            )
    assert all(answers[(2, i)] == answers[(1, i)] for i in range(len(ids)))
    assert widened
