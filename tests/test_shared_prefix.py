"""Packed rows with one shared prompt prefix train exactly as the unshared rows do: the same loss and LoRA-free
gradients through trl's own collator, documents still apart, positions as before; rows whose documents do not
all start with the prefix stay as trl built them."""

from __future__ import annotations

import pytest
import torch

from core.packed_attention import use_for_packed_training
from core.shared_prefix import (
    IGNORE,
    SharedPrefixCollator,
    SharingStats,
    common_prefix,
    share_dataset,
    share_row,
)

PREFIX = [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]


def _doc(own: list[int], answer: list[int], prefix: list[int] = PREFIX) -> tuple[list[int], list[int]]:
    ids = prefix + own + answer
    return ids, [IGNORE] * (len(prefix) + len(own)) + answer


def _row(*docs: tuple[list[int], list[int]]) -> dict:
    return {
        "input_ids": [t for ids, _ in docs for t in ids],
        "labels": [t for _, labels in docs for t in labels],
        "seq_lengths": [len(ids) for ids, _ in docs],
    }


def _collator():
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    return DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)


def _model(tiny_model):
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, attn_implementation="sdpa", dtype=torch.float32)
    assert use_for_packed_training(model)
    return model


def _loss_and_grads(model, batch):
    model.zero_grad(set_to_none=True)
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    logits = model(**inputs, use_cache=False).logits[0]
    labels = batch["labels"][0]
    loss = torch.nn.functional.cross_entropy(logits[:-1], labels[1:], ignore_index=IGNORE)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


ROWS = [
    _row(_doc([20, 21, 22], [30, 31, 2]), _doc([23, 24], [32, 2]), _doc([25, 26, 27, 28], [33, 34, 35, 2])),
    _row(_doc([40], [41, 2]), _doc([42, 43, 44, 45, 46], [47, 2])),
]


@pytest.mark.parametrize("rows", [ROWS[:1], ROWS])  # one row per batch, and two rows flattened into one batch
def test_a_shared_row_trains_exactly_as_the_unshared_row(tiny_model, rows):
    model = _model(tiny_model)
    plain = _collator()(rows)
    shared = SharedPrefixCollator(_collator(), PREFIX)([share_row(r, PREFIX) for r in rows])
    assert shared["input_ids"].shape[1] == plain["input_ids"].shape[1] - len(PREFIX) * (
        sum(len(r["seq_lengths"]) for r in rows) - len(rows)
    )
    assert (shared["labels"] != IGNORE).sum() == (plain["labels"] != IGNORE).sum()
    loss, grads = _loss_and_grads(model, plain)
    shared_loss, shared_grads = _loss_and_grads(model, shared)
    torch.testing.assert_close(shared_loss, loss, rtol=1e-5, atol=1e-6)
    for name, grad in grads.items():
        torch.testing.assert_close(shared_grads[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_the_collator_places_documents_after_the_prefix_and_names_it():
    batch = SharedPrefixCollator(_collator(), PREFIX)([share_row(ROWS[1], PREFIX)])
    p = len(PREFIX)
    assert batch["segment_prefix"] == [-1, 0, 0]
    assert batch["cu_seq_lens_q"].tolist() == [0, p, p + 3, p + 3 + 7]
    assert batch["position_ids"][0].tolist() == list(range(p)) + list(range(p, p + 3)) + list(range(p, p + 7))


def test_documents_sharing_a_prefix_do_not_see_each_other(tiny_model):
    model = _model(tiny_model)
    collate = SharedPrefixCollator(_collator(), PREFIX)
    row = share_row(ROWS[1], PREFIX)
    changed = dict(row, input_ids=list(row["input_ids"]))
    p = len(PREFIX)
    changed["input_ids"][p] = 60  # the first document's own token
    with torch.no_grad():
        before = model(**{k: v for k, v in collate([row]).items() if k != "labels"}).logits[0]
        after = model(**{k: v for k, v in collate([changed]).items() if k != "labels"}).logits[0]
    torch.testing.assert_close(after[p + 3 :], before[p + 3 :])  # the second document is untouched
    assert not torch.allclose(after[p : p + 3], before[p : p + 3])


def test_the_prefix_stops_before_any_document_s_answer_and_has_a_minimum_length():
    assert common_prefix(ROWS) == PREFIX
    # a document whose answer starts right after the prefix keeps one prompt token of its own
    early = _row(_doc([], [50, 2], prefix=[*PREFIX, 20]), _doc([21], [51, 2]))
    assert common_prefix([early]) == PREFIX
    short = _row(_doc([20], [30, 2], prefix=PREFIX[:4]), _doc([21], [31, 2], prefix=PREFIX[:4]))
    assert common_prefix([short]) == []
    assert common_prefix([{"input_ids": [1, 2], "labels": [1, 2]}]) == []  # not a packed row


def test_rows_whose_documents_do_not_all_have_the_prefix_stay_unshared():
    other = _row(_doc([20], [30, 2]), _doc([21], [31, 2], prefix=[99] * len(PREFIX)))
    assert share_row(other, PREFIX) is None
    from datasets import Dataset

    stats = SharingStats(prefix_tokens=len(PREFIX))
    out = share_dataset(Dataset.from_list([ROWS[0], other]), PREFIX, stats)
    assert (stats.rows_shared, stats.rows_unshared) == (1, 1)
    assert out[1]["input_ids"] == other["input_ids"]
    assert stats.tokens_before - stats.tokens_after == 2 * len(PREFIX)
    batch = SharedPrefixCollator(_collator(), PREFIX)([out[0], out[1]])
    assert batch["segment_prefix"] == [-1, 0, 0, 0, -1, -1]


def _train(tiny_model, clause_file, tmp_path, name: str, share: bool):
    import json

    from core.config import build_config
    from core.pipeline import train_and_evaluate

    cfg = build_config(
        overrides={"pack": "legal", "data": str(clause_file), "base_model": str(tiny_model),
                   "output_dir": str(tmp_path / "runs"), "max_length": 1024, "epochs": 1, "save_steps": 10**6,
                   "eval_steps": 10**6, "test_fraction": 0.25, "max_steps": 3, "logging_steps": 1,
                   "share_prompt_prefix": share}
    )  # fmt: skip
    run = train_and_evaluate("legal", cfg, name=name, evaluate=False)
    events = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    losses = [e["loss"] for e in events if "loss" in e]
    return json.loads((run / "results.json").read_text())["training"], events, losses


def test_vft_train_shares_the_prompt_prefix_and_learns_the_same(tiny_model, clause_file, tmp_path):
    shared, events, shared_losses = _train(tiny_model, clause_file, tmp_path, "shared", True)
    plain, plain_events, plain_losses = _train(tiny_model, clause_file, tmp_path, "plain", False)
    sharing = shared["shared_prefix"]
    assert sharing["prefix_tokens"] >= 8 and sharing["rows_shared"] > 0
    assert sharing["tokens_after"] < 0.8 * sharing["tokens_before"]  # several clauses per 1,024-token row
    assert [e for e in events if e.get("event") == "shared_prefix"]
    assert plain["shared_prefix"] is None and not [e for e in plain_events if e.get("event") == "shared_prefix"]
    assert shared["global_step"] == plain["global_step"] == 3  # the same rows, so the same steps
    assert len(shared_losses) == len(plain_losses) >= 3
    for a, b in zip(shared_losses, plain_losses, strict=True):
        assert a == pytest.approx(b, rel=2e-3)


def test_a_shared_layout_that_reaches_attention_without_its_bounds_is_an_error(tiny_model):
    from core.packed_attention import packed_sdpa_attention

    module = _model(tiny_model).model.layers[0].self_attn
    q, k, v = (torch.randn(1, 4, 5, 16) for _ in range(3))
    with pytest.raises(ValueError, match="shares its prompt prefix"):
        packed_sdpa_attention(module, q, k[:, :2], v[:, :2], None, segment_prefix=[-1, 0])
