"""The training loss projects only supervised positions, and is trl's loss: same value, same gradients, same
logged metrics, on packed rows of the tiny model."""

from __future__ import annotations

import pytest
import torch

from core.completion_loss import completion_trainer_class, next_token_targets, supervised_logits


def test_targets_are_the_labels_of_the_following_token():
    labels = torch.tensor([[-100, -100, 7, 8, -100, -100, 9], [-100, 5, -100, -100, -100, -100, -100]])
    keep, targets = next_token_targets(labels)
    assert keep.tolist() == [
        [False, True, True, False, False, True, False],
        [True, False, False, False, False, False, False],
    ]
    assert targets.tolist() == [7, 8, 9, 5]  # row-major, as a boolean mask returns them


def _packed_batch(trainer):
    batch = next(iter(trainer.get_train_dataloader()))
    assert batch["input_ids"].shape[0] == 1 and (batch["labels"] != -100).sum() < batch["labels"].numel() / 2
    return batch


def _loss_and_grads(loss_fn, trainer, batch, **kwargs):
    model = trainer.model
    model.train()
    model.zero_grad(set_to_none=True)
    loss = loss_fn(trainer, model, dict(batch), **kwargs)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad(set_to_none=True)
    return loss.item(), grads


@pytest.mark.parametrize("num_items", [None, 37])
def test_the_loss_and_its_gradients_equal_trls_fused_loss(tiny_trainer, num_items):
    from trl import SFTTrainer

    trainer = tiny_trainer.trainer
    assert isinstance(trainer, completion_trainer_class())
    batch = _packed_batch(trainer)
    kwargs = {} if num_items is None else {"num_items_in_batch": num_items}
    ours, our_grads = _loss_and_grads(type(trainer).compute_loss, trainer, batch, **kwargs)
    ours_accuracy = trainer._metrics["train"]["mean_token_accuracy"][-1]
    theirs, their_grads = _loss_and_grads(SFTTrainer.compute_loss, trainer, batch, **kwargs)
    theirs_accuracy = trainer._metrics["train"]["mean_token_accuracy"][-1]
    assert ours == pytest.approx(theirs, rel=1e-5)
    assert ours_accuracy == pytest.approx(theirs_accuracy)
    assert our_grads.keys() == their_grads.keys() and len(our_grads) > 0
    for name, grad in our_grads.items():
        torch.testing.assert_close(grad, their_grads[name], rtol=1e-4, atol=1e-6, msg=name)


def test_only_the_supervised_positions_reach_the_lm_head(tiny_trainer):
    trainer = tiny_trainer.trainer
    batch = _packed_batch(trainer)
    head = trainer.model.get_output_embeddings()
    rows: list[int] = []
    hook = head.register_forward_hook(
        lambda _m, args, _out: rows.append(args[0].reshape(-1, args[0].shape[-1]).shape[0])
    )
    try:
        trainer.compute_loss(trainer.model, dict(batch))
    finally:
        hook.remove()
    assert rows == [int((batch["labels"][:, 1:] != -100).sum())]


def test_a_model_that_ignores_logits_to_keep_is_cut_to_the_kept_positions():
    class FullLogits(torch.nn.Module):
        def forward(self, input_ids, use_cache=False, logits_to_keep=None, **_):
            return type("Out", (), {"logits": torch.arange(24.0).reshape(1, 4, 6).expand(input_ids.shape[0], 4, 6)})

    labels = torch.tensor([[-100, -100, 3, 4]])
    keep, targets = next_token_targets(labels)
    logits = supervised_logits(FullLogits(), {"input_ids": torch.zeros(1, 4, dtype=torch.long), "labels": labels}, keep)
    assert logits.shape == (2, 6) and logits[0, 0] == 6.0 and targets.tolist() == [3, 4]
