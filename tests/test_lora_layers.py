"""LoRA on the top blocks only (lora.top_layers): which modules get adapters, and that the backward pass stops at
the lowest adapted block (the reason the option exists)."""

from __future__ import annotations

import pytest

from tests.conftest import build_tiny_model


@pytest.fixture(scope="module")
def three_block_model(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-3", layers=3)


def _trainer(model_path, clause_file, tmp_path, top_layers):
    from core.config import build_config
    from core.pack import get_pack
    from core.run_folder import RunFolder
    from core.train import build_trainer

    pack = get_pack("legal")
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={"pack": "legal", "max_length": 256, "save_steps": 10**6, "eval_steps": 10**6,
                   "lora": {"top_layers": top_layers}},
    )  # fmt: skip
    examples = pack.load(clause_file).examples
    return build_trainer(
        pack, cfg, examples, [], RunFolder(tmp_path / "run"), model_path=str(model_path), precision="fp32",
        quantization="none",
    ).trainer  # fmt: skip


def _adapted(model) -> dict[int, set[str]]:
    import re

    found: dict[int, set[str]] = {}
    for name, _ in model.named_parameters():
        if "lora_A" in name:
            block = int(re.search(r"\.layers\.(\d+)\.", name).group(1))
            found.setdefault(block, set()).add(re.search(r"\.(\w+_proj)\.lora_A", name).group(1))
    return found


def test_all_blocks_by_default(three_block_model, clause_file, tmp_path):
    adapted = _adapted(_trainer(three_block_model, clause_file, tmp_path, None).model)
    assert sorted(adapted) == [0, 1, 2]


def test_top_layers_adapts_every_linear_layer_of_the_last_blocks_only(three_block_model, clause_file, tmp_path):
    adapted = _adapted(_trainer(three_block_model, clause_file, tmp_path, 2).model)
    assert sorted(adapted) == [1, 2]
    assert adapted[1] == adapted[2] == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}


@pytest.mark.filterwarnings("ignore:Full backward hook")
def test_backward_stops_at_the_lowest_adapted_block(three_block_model, clause_file, tmp_path):
    trainer = _trainer(three_block_model, clause_file, tmp_path, 1)
    model = trainer.model
    blocks = model.get_base_model().model.layers
    reached: list[int] = []
    for i, block in enumerate(blocks):
        block.register_full_backward_hook(lambda *_, i=i: reached.append(i))
    batch = next(iter(trainer.get_train_dataloader()))
    inputs = {k: v for k, v in batch.items() if hasattr(v, "shape")}
    trainer.compute_loss(model, inputs).backward()
    assert reached == [2]
    grads = [p.grad for n, p in model.named_parameters() if "lora_B" in n]
    assert grads and all(g is not None for g in grads)


def test_more_top_layers_than_blocks_is_a_clear_error(three_block_model, clause_file, tmp_path):
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"lora.top_layers=4 but the model has 3 transformer blocks"):
        _trainer(three_block_model, clause_file, tmp_path, 4)


def test_module_names_are_resolved_from_the_blocks_not_the_head(three_block_model):
    from transformers import AutoModelForCausalLM

    from core.lora_layers import block_count, linear_module_names

    model = AutoModelForCausalLM.from_pretrained(three_block_model)
    assert block_count(model) == 3
    names = linear_module_names(model)
    assert "lm_head" not in names and "q_proj" in names and len(names) == 7
