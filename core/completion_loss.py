"""Completion-only loss that projects only the supervised positions through the LM head.

Why: trl's fused LM head scores only labelled positions on Triton devices, but on any other device (the CPU
included) it projects *every* position of the packed row through the vocabulary to keep tile shapes fixed. A
classification answer is ~5 of ~150 tokens, so on a 2-core CPU about a quarter of each training step went into
vocabulary projections whose loss was then multiplied by zero (profile in bench/NOTES.md). Here the model is asked
for the logits of the kept positions only (transformers' `logits_to_keep` with a boolean mask), through
`model(...)` itself so that PEFT, DDP and FSDP wrappers see an ordinary forward. The loss, its normalisation
(`num_items_in_batch`) and the logged metrics (entropy, mean token accuracy, token count) are trl's own.
"""

from __future__ import annotations

from functools import cache
from typing import Any

IGNORE_INDEX = -100


def next_token_targets(labels: Any) -> tuple[Any, Any]:
    """(keep, targets): keep[b, i] is True where the token after position i carries a label; targets are those
    labels in the row-major order in which the kept positions' logits come back."""
    import torch

    following = torch.full_like(labels, IGNORE_INDEX)
    following[:, :-1] = labels[:, 1:]
    keep = following != IGNORE_INDEX
    return keep, following[keep]


def supervised_logits(model: Any, inputs: dict[str, Any], keep: Any) -> Any:
    """Logits of the kept positions only, shape (kept, vocab). A model whose forward ignores `logits_to_keep`
    (custom remote code) still works: its full logits are cut down to the kept positions here."""
    model_inputs = {k: v for k, v in inputs.items() if k != "labels"}
    logits = model(**model_inputs, use_cache=False, logits_to_keep=keep).logits
    if logits.dim() == 3:  # full (batch, seq, vocab) logits
        logits = logits[keep]
    return logits


@cache
def completion_trainer_class() -> type:
    """trl's SFTTrainer whose loss skips the vocabulary projection of unlabelled positions on devices where trl's
    own kernel does not (built lazily so importing core does not import trl)."""
    import torch
    from trl import SFTTrainer
    from trl.kernels.chunked_logprob import _use_triton

    class CompletionOnlySFTTrainer(SFTTrainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.get("labels")
            if return_outputs or self.aux_loss_enabled or labels is None or _use_triton(labels.device):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            mode = "train" if model.training else "eval"
            keep, targets = next_token_targets(labels)
            logits = supervised_logits(model, inputs, keep).float()
            token_loss = torch.nn.functional.cross_entropy(logits, targets, reduction="none")
            valid = targets.numel()
            denominator = num_items_in_batch if num_items_in_batch is not None else max(valid, 1)
            loss = token_loss.sum() / torch.as_tensor(denominator, device=token_loss.device)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * (self.accelerator.num_processes // self.get_tp_size())
            self._log_token_metrics(mode, inputs, logits.detach(), targets)
            return loss

        def _log_token_metrics(self, mode: str, inputs: dict[str, Any], logits: Any, targets: Any) -> None:
            """The metrics trl's compute_loss logs, from the kept logits: entropy, token accuracy, tokens seen."""
            gather = self.accelerator.gather_for_metrics
            log_p = torch.log_softmax(logits, dim=-1)
            entropy = -(log_p.exp() * log_p).sum(-1)
            count = gather(torch.tensor(targets.numel(), device=logits.device)).sum()
            correct = gather((logits.argmax(-1) == targets).sum()).sum()
            entropy_sum = gather(entropy.sum()).sum()
            self._metrics[mode]["entropy"].append((entropy_sum / count).item() if count > 0 else 0.0)
            self._metrics[mode]["mean_token_accuracy"].append((correct / count).item() if count > 0 else 0.0)
            if mode == "train":
                if "attention_mask" in inputs:
                    local = inputs["attention_mask"].sum()
                else:
                    local = torch.tensor(inputs["position_ids"].size(1), device=logits.device)
                self._total_train_tokens += gather(local).sum().item() // self._tp_size
            self._metrics[mode]["num_tokens"] = [self._total_train_tokens]

    return CompletionOnlySFTTrainer
