"""Fixtures: a tiny Llama-style model with a ChatML tokenizer built in a temp dir (no network, seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPUS = [
    "This Agreement shall be governed by the laws of the State of New York.",
    "Neither party may assign this Agreement without prior written consent.",
    "Liability shall not exceed the fees paid in the prior twelve months.",
    '{"label": "Governing Law"} {"label": "Anti-Assignment"} {"label": "Cap on Liability"}',
    "You classify contract clauses. Choose exactly one label. Answer with JSON only.",
] * 20


def build_tiny_model(path: Path, *, hidden: int = 64, layers: int = 2) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=400, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token="<|endoftext|>",
    )
    fast.chat_template = CHATML
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=hidden,
        intermediate_size=hidden * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
        tie_word_embeddings=True,
    )
    model = LlamaForCausalLM(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model: Path):
    from core.models import load_tokenizer

    return load_tokenizer(str(tiny_model))


@pytest.fixture(scope="module")
def tiny_generator(tiny_model: Path):
    """A Generator on the tiny model (greedy, eval mode), shared by a test module's decoding tests."""
    from core.generate import Generator
    from core.models import load_model, load_tokenizer

    return Generator(load_model(str(tiny_model), for_training=False), load_tokenizer(str(tiny_model)))


def run_vft(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `vft` command as a user would (through core.cli.main, so errors become exit code 2)."""
    code = "from core.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=300)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


LABELS = ["Governing Law", "Anti-Assignment", "Cap on Liability"]
TEMPLATES = {
    "Governing Law": "This Agreement shall be governed by the laws of {}.",
    "Anti-Assignment": "Neither party may assign this Agreement to {} without consent.",
    "Cap on Liability": "Liability of {} shall not exceed the fees paid.",
}
PLACES = [
    "New York",
    "Delaware",
    "Texas",
    "Ontario",
    "England",
    "California",
    "Nevada",
    "Ohio",
    "Utah",
    "Iowa",
    "Maine",
    "Idaho",
]


@pytest.fixture
def clause_file(tmp_path: Path) -> Path:
    rows = []
    for i, place in enumerate(PLACES):
        for label in LABELS:
            rows.append(
                {"id": f"{label[:3]}-{i}", "text": TEMPLATES[label].format(place), "label": label, "contract": f"c{i}"}
            )
    return write_jsonl(tmp_path / "clauses.jsonl", rows)


def clause_rows() -> list[dict]:
    return [
        {"id": f"{lab[:3]}-{i}", "text": TEMPLATES[lab].format(p), "label": lab, "contract": f"c{i}-{lab}"}
        for i, p in enumerate(PLACES)
        for lab in LABELS
    ]


@pytest.fixture(scope="session")
def small_run(tiny_model, tmp_path_factory) -> Path:
    """One trained tiny legal run (adapter, splits, results) shared by tests that only read a run folder."""
    from core.config import build_config
    from core.pipeline import train_and_evaluate

    tmp = tmp_path_factory.mktemp("small-run")
    cfg = build_config(
        overrides={
            "pack": "legal",
            "data": str(write_jsonl(tmp / "clauses.jsonl", clause_rows())),
            "base_model": str(tiny_model),
            "output_dir": str(tmp / "runs"),
            "max_steps": 3,
            "save_steps": 3,
            "eval_steps": 3,
            "max_length": 256,
            "learning_rate": 5e-3,
            "test_fraction": 0.25,
            "max_eval_examples": 6,
            "eval_batch_size": 6,
            "systems": ["zero_shot", "tuned"],
        }
    )
    return train_and_evaluate("legal", cfg, name="small")


@pytest.fixture
def run_copy(small_run, tmp_path):
    """A copy of the shared small run that a test may evaluate again (evaluation writes into the run folder)."""
    import shutil

    from core.run_folder import RunFolder

    copy = tmp_path / "run"
    shutil.copytree(small_run, copy)
    return RunFolder(copy)


@pytest.fixture
def tiny_trainer(tiny_model, clause_file, tmp_path):
    """`vft train`'s trainer (build_trainer) on the tiny model and the clause file, LoRA dropout 0."""
    from core.config import build_config
    from core.pack import get_pack
    from core.run_folder import RunFolder
    from core.train import build_trainer

    pack = get_pack("legal")
    examples = pack.load(clause_file).examples
    cfg = build_config(
        pack_defaults=pack.default_config(),
        overrides={"pack": "legal", "max_length": 256, "save_steps": 10**6, "eval_steps": 10**6,
                   "lora": {"dropout": 0.0}},
    )  # fmt: skip
    folder = RunFolder(tmp_path / "run")
    return build_trainer(
        pack, cfg, examples, [], folder, model_path=str(tiny_model), precision="fp32", quantization="none"
    )


@pytest.fixture(scope="session")
def detector():
    """One spaCy-mode redaction detector for the test files that do not build their own."""
    from redaction.engine import Detector

    return Detector("spacy")


def people(detector, text: str) -> list[str]:
    """The person spans a detector finds in `text`, as strings."""
    from redaction import entities as E

    return [text[s.start : s.end] for s in detector.detect(text) if s.label == E.PERSON]
