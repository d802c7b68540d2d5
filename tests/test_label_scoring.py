"""Label scoring is exact (the KV-cache path equals a full forward per answer), gives probabilities that sum to 1,
agrees with greedy constrained decoding where that is defined; retrieval-augmented prompts never show the example
itself or any held-out example; the adapter is prompted at inference exactly as it was trained."""

from __future__ import annotations

import math

import pytest

from core.pack import Example, get_pack
from tests.conftest import LABELS, PLACES, TEMPLATES


@pytest.fixture(scope="module")
def model_and_tok(tiny_model):
    from core.models import load_model, load_tokenizer

    return load_model(str(tiny_model), for_training=False), load_tokenizer(str(tiny_model))


@pytest.fixture(scope="module")
def pack():
    p = get_pack("legal")
    p.fit([Example(lab, "x", "", lab) for lab in LABELS])
    return p


def _brute_force(model, tok, messages, choice):
    import torch

    from core.formatting import chat_ids
    from core.label_scoring import choice_ids

    prompt = chat_ids(tok, messages, add_generation_prompt=True)
    answer = choice_ids(tok, [choice])[0]
    ids = torch.tensor([prompt + answer])
    with torch.no_grad():
        logp = torch.log_softmax(model(input_ids=ids).logits[0].float(), dim=-1)
    return sum(float(logp[len(prompt) + i - 1, t]) for i, t in enumerate(answer))


def test_scores_equal_a_full_forward_per_answer(model_and_tok, pack):
    from core.label_scoring import score_choices

    model, tok = model_and_tok
    prompts = [pack.prompt_messages(TEMPLATES[lab].format(p)) for lab in LABELS for p in PLACES[:2]]
    choices = pack.allowed_outputs()
    for messages, scored in zip(prompts, score_choices(model, tok, prompts, choices, max_length=512), strict=True):
        for choice, ll in zip(choices, scored.log_likelihoods, strict=True):
            assert ll == pytest.approx(_brute_force(model, tok, messages, choice), abs=1e-3)
        assert math.isclose(sum(scored.probabilities), 1.0, rel_tol=1e-9)
        assert scored.index == max(range(len(choices)), key=scored.log_likelihoods.__getitem__)


def test_scoring_equals_constrained_greedy_when_the_answers_share_no_first_token_choice(model_and_tok):
    """With one-token answers the greedy constrained choice is the answer whose first token is likeliest, and the
    end-of-turn that follows is forced; scoring is the same argmax up to that forced token's probability, so we
    compare on answers of one token and check both pick the same answer whenever that last factor is the same."""
    from core.constrained import turn_end_id
    from core.generate import Generator
    from core.label_scoring import score_choices

    model, tok = model_and_tok
    vocab = tok.get_vocab()
    singles = [w for w in ("A", "B", "C", "D") if w in vocab][:3]
    messages = [{"role": "user", "content": "Governing law of Delaware."}]
    scored = score_choices(model, tok, [messages], singles, max_length=512)[0]
    greedy = Generator(model, tok).generate([messages], max_new_tokens=4, choices=singles)[0].text
    first = {c: s - _brute_force(model, tok, messages, c) for c, s in zip(singles, scored.log_likelihoods, strict=True)}
    assert all(abs(v) < 1e-3 for v in first.values())  # exact
    eot = turn_end_id(tok)
    assert eot is not None
    if len({round(s, 2) for s in scored.log_likelihoods}) == len(singles):
        best_first = max(singles, key=lambda c: _brute_force(model, tok, messages, c))
        assert singles[scored.index] == best_first
    assert greedy in singles


def test_retrieved_shots_never_show_the_example_itself():
    from core.config import build_config
    from core.fewshot import Retriever
    from core.prompts import adapter_prompt

    pack = get_pack("legal")
    train = [Example(f"{lab}-{p}", TEMPLATES[lab].format(p), pack.target(lab), lab) for lab in LABELS for p in PLACES]
    pack.fit(train)
    cfg = build_config(overrides={"retrieval_k": 3, "prompt": "compact"})
    retriever = Retriever(train)
    for ex in train:
        messages = adapter_prompt(pack, cfg, ex, retriever, exclude_self=True)
        shown = [m["content"] for m in messages[1:-1] if m["role"] == "user"]
        assert len(shown) == 3 and pack.user_message(ex.text) not in shown
        assert messages[0]["content"] == pack.compact_system_prompt() and "Governing Law:" not in messages[0]["content"]


def test_trained_and_served_prompts_are_the_same(small_run):
    """A run trained with the compact prompt and retrieval: evaluation, predict and the demo send what training
    used, and no held-out example is ever among the shots."""
    import shutil

    from core.config import build_config
    from core.loaded_run import open_run
    from core.pipeline import train_and_evaluate
    from core.run_folder import RunFolder

    folder = RunFolder(small_run)
    cfg = folder.load_config()
    data = cfg.data.path
    overrides = {**cfg.model_dump(), "output_dir": str(small_run.parent)}
    overrides["training"] = {**overrides["training"], "prompt": "compact", "retrieval_k": 2, "max_steps": 1}
    overrides["evaluation"] = {**overrides["evaluation"], "systems": ["tuned"], "label_scoring": True}
    run = train_and_evaluate("legal", build_config(overrides={**overrides, "data": data}), name="retrieval")
    try:
        loaded = open_run(run)
        test = RunFolder(run).load_split("test")
        test_texts = {loaded.pack.user_message(ex.text) for ex in test}
        for ex in test:
            messages = loaded.prompt(ex, tuned=True)
            shots = [m["content"] for m in messages[1:-1] if m["role"] == "user"]
            assert len(shots) == 2 and not set(shots) & test_texts
        results = RunFolder(run).read_results()
        assert {"tuned", "tuned+constrained", "tuned+scored"} <= set(results.systems)
        rows = RunFolder(run).read_predictions("tuned+scored")
        assert all(math.isclose(sum(r["probabilities"].values()), 1.0) for r in rows)
    finally:
        shutil.rmtree(run, ignore_errors=True)


@pytest.mark.parametrize("style", ["full", "compact", "minimal"])
def test_each_prompt_style_is_shorter_and_the_adapter_prompt_follows_the_config(style):
    from core.config import build_config
    from core.pack import get_pack
    from core.prompts import adapter_prompt

    pack = get_pack("legal")
    pack.fit([Example(f"{lab}-0", TEMPLATES[lab].format("Ohio"), pack.target(lab), lab) for lab in LABELS])
    system = adapter_prompt(pack, build_config(overrides={"prompt": style}), "Some clause.")[0]["content"]
    assert system == pack.system_prompt_for(style)
    names_labels = all(label in system for label in LABELS)
    assert names_labels == (style != "minimal")  # minimal: task and answer format only
    full, compact, minimal = (len(pack.system_prompt_for(s)) for s in ("full", "compact", "minimal"))
    assert full > compact > minimal and '{"label": "<label>"}' in pack.system_prompt_for("minimal")


def test_a_pack_without_a_minimal_prompt_falls_back_to_its_compact_then_full_prompt():
    from core.pack import get_pack

    clinical, ecommerce = get_pack("clinical"), get_pack("ecommerce")
    assert clinical.minimal_system_prompt() is None
    assert clinical.system_prompt_for("minimal") == clinical.compact_system_prompt()
    assert ecommerce.compact_system_prompt() is None
    assert ecommerce.system_prompt_for("minimal") == ecommerce.system_prompt()
