"""Grounded decoding never completes a refused word or number (tokenizer-aware, whole words only), and the
e-commerce pack's grounding, publishability, repeated-line and derived-style rules do what they say."""

from __future__ import annotations

import pytest

from core.grounding import Grounding, completed_units, numbers_in
from core.pack import Example, get_pack


def test_units_complete_only_when_nothing_can_extend_them():
    assert completed_units("a red", finished=False) == ["a"]
    assert completed_units("a red ", finished=False) == ["a", "red"]
    assert completed_units("a red", finished=True) == ["a", "red"]
    assert completed_units("size 3.", finished=False) == ["size"]  # "3." may still become 3.5
    assert numbers_in("$84.00, 2 pack") == frozenset({"84", "2"})
    assert numbers_in('model bar1234, A630, 62"W x 84"L, 1,299.99') == frozenset({"62", "84", "1299.99"})
    assert completed_units("Canon A630 at 1234", finished=True) == ["Canon", "A630", "at", "1234"]  # A630: a word
    g = Grounding(frozenset({"red"}), frozenset({"84"}))
    assert g.refuses("Red") and not g.refuses("redesign") and g.refuses("85") and not g.refuses("84.0")


def test_a_refused_word_is_stopped_where_it_starts_and_a_number_where_no_allowed_one_fits():
    from core.grounding import _would_state_refused

    g = Grounding(frozenset({"red"}), frozenset({"18"}))
    assert _would_state_refused(g, "a red", finished=False)  # the token that spells "red" is refused at once
    assert not _would_state_refused(g, "a redw", finished=False)  # another word that starts alike is not
    assert _would_state_refused(g, "a red.", finished=False) and _would_state_refused(g, "red", finished=True)
    assert not _would_state_refused(g, "size 1", finished=False)  # may still become 18
    assert _would_state_refused(g, "size 10", finished=False) and not _would_state_refused(g, "size 18", False)


def test_an_open_number_must_still_be_able_to_become_an_allowed_one():
    from core.grounding import _would_state_refused

    g = Grounding(frozenset(), frozenset({"37.49", "750", "5", "199.99"}))
    assert not _would_state_refused(g, "of 3", finished=False)  # may become 37.49
    assert _would_state_refused(g, "of 3.", finished=False)  # only 3.x can follow, and no allowed number is
    assert not _would_state_refused(g, "$750.0", finished=False) and not _would_state_refused(g, "5.", False)
    assert _would_state_refused(g, "a 5.1", finished=False) and not _would_state_refused(g, "$199.9", False)
    assert _would_state_refused(g, "over 199 years", finished=False)  # 199 alone is not the price


def test_digits_joined_by_a_comma_are_refused_where_the_claim_check_would_read_one_number(tiny_tokenizer):
    """Writing "up to 7,285 MHz" would state 7285 (the claim check drops commas) where 7 and 285 are allowed: the
    token that joins a digit to "7," is refused; "7, 285" (two numbers) and numbers without commas stay free."""
    import torch

    from core.grounding import _would_state_refused, grounding_processor

    g = Grounding(frozenset(), numbers_in("7 285 $1,299.99"))
    assert _would_state_refused(g, "up to 7,285", finished=False) and _would_state_refused(g, "$1,299.99", True)
    assert not _would_state_refused(g, "sizes 7, 285", finished=True) and not _would_state_refused(g, "$1299.99", True)
    assert not _would_state_refused(Grounding(), "7,285", finished=True)  # numbers unchecked: commas too
    tok = tiny_tokenizer
    digit, space = (tok(t, add_special_tokens=False)["input_ids"][-1] for t in ("2", " "))
    scores = torch.zeros((1, len(tok)))
    scores[0, digit] = 2.0
    out = grounding_processor(tok, [g], 0, [tok.eos_token_id])(
        torch.tensor([tok("up to 7,", add_special_tokens=False)["input_ids"]]), scores.clone()
    )
    assert out[0, digit] == float("-inf") and out[0, space] == 0.0


def test_a_word_refused_only_after_another_is_stopped_where_the_pair_is_spelt(tiny_tokenizer):
    """ "the first" is refused, "first" alone and "the firstborn" are not; the processor sees the word before the
    token being chosen, so the token that spells "first" after "the " is refused and another is free."""
    import torch

    from core.grounding import _would_state_refused, grounding_processor

    g = Grounding(refused_pairs=frozenset({("the", "first")}))
    assert _would_state_refused(g, "is the first", finished=False) and _would_state_refused(g, "The First.", True)
    assert not _would_state_refused(g, "is the fir", finished=False)  # may still become another word
    assert not _would_state_refused(g, "at first, the", finished=True) and not _would_state_refused(
        g, "the firstborn", True
    )
    tok = tiny_tokenizer
    t, e = (tok(c, add_special_tokens=False)["input_ids"][-1] for c in ("t", "e"))
    scores = torch.zeros((1, len(tok)))
    scores[0, t] = 2.0

    def after(text: str) -> torch.Tensor:
        ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]])
        return grounding_processor(tok, [g], 0, [tok.eos_token_id])(ids, scores.clone())[0]

    assert after("It is the firs")[t] == float("-inf") and after("It is the firs")[e] == 0.0  # "firse" is free
    assert after("It is a firs")[t] == 2.0  # "a first" is no claim


def test_an_answer_cut_by_the_token_budget_loses_an_unfinished_refused_number():
    from core.grounding import trim_cut_answer

    g = Grounding(frozenset({"red"}), frozenset({"2610", "149.99"}))
    assert trim_cut_answer(g, "Nokia 2610 Phone\nProduct: Nokia 26") == "Nokia 2610 Phone\nProduct: Nokia"
    assert trim_cut_answer(g, "for $149.9") == "for $"
    assert trim_cut_answer(g, "Nokia 2610") == "Nokia 2610" and trim_cut_answer(None, "a 26") == "a 26"
    assert trim_cut_answer(g, "a red and 5") == "a red and 5"  # refused before the tail: not this rule's to mend


def test_an_answer_cut_by_the_answer_end_rule_or_the_budget_is_trimmed_only_when_grounded():
    from core.generate import final_text

    g = Grounding(frozenset(), frozenset({"2610"}))
    text = "Nokia 2610 Phone\nProduct: Nokia 26"
    assert final_text(text, None, g) == "Nokia 2610 Phone\nProduct: Nokia" and final_text(text, None, None) == text
    cut_inside = final_text(text + "10 again", lambda t: len(text), g)  # the rule cut inside a number
    assert cut_inside == "Nokia 2610 Phone\nProduct: Nokia"
    assert final_text("Nokia 2610.\nNokia 2610.", lambda t: 12, g) == "Nokia 2610."


def test_when_every_likely_token_is_refused_the_search_widens_instead_of_letting_one_through():
    import torch

    from core.grounding import _refused_until_one_is_allowed

    scores = torch.arange(1000, dtype=torch.float)  # token t has score t: 999 is the likeliest
    refused = _refused_until_one_is_allowed(scores, lambda t: t >= 900)
    assert sorted(refused) == list(range(900, 1000))  # the 100 likeliest refused, the 101st is the answer
    assert _refused_until_one_is_allowed(scores, lambda t: t >= 990) == list(range(999, 989, -1))
    assert _refused_until_one_is_allowed(scores, lambda t: True) == []  # nothing allowed: the step is left alone


def test_the_processor_lets_only_an_allowed_continuation_of_an_open_number_through(tiny_tokenizer):
    import torch

    from core.grounding import _would_state_refused, grounding_processor

    tok = tiny_tokenizer
    ground = Grounding(frozenset(), frozenset({"199.99"}))
    ids = tok("over 199", add_special_tokens=False)["input_ids"]
    period = tok(".", add_special_tokens=False)["input_ids"][-1]
    ending = [t for t in range(len(tok)) if _would_state_refused(ground, "199" + tok.decode([t]), finished=False)]
    assert len(ending) > 40  # more tokens would end or spoil the number than the first round checks
    scores = torch.zeros((1, len(tok)))
    scores[0, ending] = 1.0  # ...and they are all likelier than "." (on to 199.99)
    scores[0, period] = 0.5
    proc = grounding_processor(tok, [ground], 0, [tok.eos_token_id])
    out = proc(torch.tensor([ids]), scores.clone())
    assert out[0].argmax().item() == period and bool((out[0, ending] == float("-inf")).all())


def test_the_processor_refuses_only_tokens_that_complete_a_refused_word(tiny_tokenizer):
    import torch

    from core.grounding import grounding_processor

    tok = tiny_tokenizer
    ids = tok("the laws", add_special_tokens=False)["input_ids"]
    vocab = len(tok)
    period = tok(".", add_special_tokens=False)["input_ids"][-1]
    scores = torch.zeros((2, vocab))
    scores[:, period] = 10.0  # the likeliest next token would end the word "laws"
    scores[:, tok.eos_token_id] = 9.0  # and so would ending the answer
    proc = grounding_processor(tok, [Grounding(frozenset({"laws"})), None], 0, [tok.eos_token_id])
    out = proc(torch.tensor([ids, ids]), scores.clone())
    assert out[0, period] == float("-inf") and out[1, period] == 10.0
    assert out[0, tok.eos_token_id] == float("-inf") and out[1, tok.eos_token_id] == 9.0
    assert torch.isfinite(out[0]).sum() >= vocab - 40  # only candidates among the likeliest are ever refused


def test_grounded_generation_runs_end_to_end(tiny_model):
    from core.generate import Generator
    from core.models import load_model, load_tokenizer

    tok = load_tokenizer(str(tiny_model))
    gen = Generator(load_model(str(tiny_model), for_training=False), tok, reuse_prefix=False)
    prompts = [[{"role": "user", "content": "This Agreement shall be governed by the laws of"}]] * 2
    free = gen.generate(prompts, max_new_tokens=12)
    grounded = gen.generate(prompts, max_new_tokens=12, grounding=[Grounding(frozenset({"zzz"})), None])
    assert [g.text for g in grounded] == [g.text for g in free]  # nothing refused: the same answers


def test_ecommerce_grounding_refuses_what_the_product_lacks():
    pack = get_pack("ecommerce")
    ex = Example("p", "Name: Orion Tee\nMaterial: Cotton\nColors: Blue\nPrice: $29.00", "",
                 {"description": "", "attributes": {"name": "Orion Tee", "material": "Cotton", "colors": ["Blue"],
                                                    "price": "$29.00"}})  # fmt: skip
    g = pack.grounding(ex)
    assert g.refuses("red") and g.refuses("wool") and not g.refuses("blue") and not g.refuses("cotton")
    assert g.refuses("100") and not g.refuses("29")


def test_ecommerce_grounding_refuses_other_makers_and_identifier_digits():
    pack = get_pack("ecommerce")
    pack.lexicon["brand"] = {"sony", "nokia", "western digital"}
    attrs = {"name": "Barcelona Bed", "manufacturer": "Nokia", "model": "bar1234", "dimension": '62"W x 84"L'}
    g = pack.grounding(Example("p", "", "", {"description": "", "attributes": attrs}))
    assert g.refuses("sony") and not g.refuses("nokia") and not g.refuses("digital")
    assert g.refuses("1234") and not g.refuses("62") and not g.refuses("84")
    assert g.refuses("patented") and g.refuses("certified")  # one-word claims the attributes do not make
    assert ("the", "first") in g.refused_pairs and ("award", "winning") in g.refused_pairs
    organic = {"name": "Orion Tee", "label": "Certified organic cotton"}
    assert not pack.grounding(Example("p", "", "", {"description": "", "attributes": organic})).refuses("certified")


def test_publishable_needs_voice_no_claims_length_and_no_repeats():
    from verticals.ecommerce.copy_metrics import repeats_a_line

    pack = get_pack("ecommerce")
    attrs = {"name": "Orion Tee", "material": "Cotton"}
    pack.voice.fit(["The Orion Tee in soft cotton keeps you cool on the trail."] * 5, ["buy now cheap"] * 5)
    good = "The Orion Tee in soft cotton keeps you cool on every run. " * 3
    refs = [{"description": "", "attributes": attrs}] * 3
    flags = pack.publishable([good, good.replace("cotton", "wool"), None], refs)
    assert flags[1] == 0 and flags[2] == 0
    assert repeats_a_line("- Machine wash/dry.\n- Machine wash.") and not repeats_a_line("Soft.\n- Breathable fabric.")


def test_a_users_catalogue_gets_its_own_style_not_the_bundled_shops(tmp_path):
    from core.data import prepare_splits
    from tests.conftest import write_jsonl

    rows = [{"id": f"p{i}", "name": f"Widget {i}", "colour": "Green",
             "description": f"Our Widget {i} is made by hand in our workshop. We ship it in a gift box."}
            for i in range(30)]  # fmt: skip
    pack = get_pack("ecommerce", {"attribute_columns": "name,colour"})
    prepare_splits(pack, write_jsonl(tmp_path / "shop.jsonl", rows), eval_fraction=0.1, test_fraction=0.2, seed=0)
    assert pack.style_source == "derived from the training copy" and pack.style.brand != "Luma"
    assert "Luma" not in pack.system_prompt() and "we" in pack.style.voice_notes.lower()
    lo, hi = pack.style.length_words
    assert lo <= 17 <= hi


@pytest.mark.parametrize("copy, expected", [("The Orion Tee is soft.", 1.0), ("A soft tee.", 0.0)])
def test_required_mentions_are_reported(copy, expected):
    from verticals.ecommerce.copy_metrics import mentioned_attributes

    assert mentioned_attributes(copy, {"name": "Orion Tee"})["required_share"] == expected


def test_the_ecommerce_demo_marks_unsupported_claims_and_lists_mentioned_attributes():
    from types import SimpleNamespace

    from demos.ecommerce import render

    pack = get_pack("ecommerce")
    model = SimpleNamespace(pack=pack)
    text = "Name: Orion Tee\nMaterial: Cotton\nColors: Blue"
    shown = render(model, "The Orion Tee in blue cotton, also in red.", text)
    assert "**⚠ red**" in shown and "**⚠ blue**" not in shown
    assert "❌ not in the input" in shown and "Attributes mentioned:" in shown and "Cotton" in shown
    shown = render(model, "The Orion Tee, the first blue tee.", text)  # a claim of two words is marked whole
    assert "**⚠ the first**" in shown and "claim:the first" in shown


def test_a_fact_is_stated_when_its_words_appear_in_order_whatever_separates_them():
    from core.grounding import states

    assert states("Made of organic Cotton-Blend.", "cotton blend")
    assert not states("A blend of cotton.", "cotton blend")
    assert not states("Cottony.", "cotton")


def test_the_coverage_bonus_starts_an_unstated_fact_and_continues_a_begun_one(tiny_tokenizer):
    from core.grounding import fact_tokens, next_fact_tokens

    facts = fact_tokens(tiny_tokenizer, ["Nokia 2610", "Blue"])
    nokia, blue = facts
    # nothing said yet: both facts may start, spelled as at the start of a line
    assert next_fact_tokens("", [], facts) == {nokia.line_start[0], blue.line_start[0]}
    # after a word: spelled after a space
    prefix = tiny_tokenizer.encode("The", add_special_tokens=False)
    assert next_fact_tokens("The", prefix, facts) == {nokia.after_space[0], blue.after_space[0]}
    # half-way through the number: the next digit of 2610 is nudged, the begun fact is not restarted
    begun = tiny_tokenizer.encode("The Nokia 26", add_special_tokens=False)
    next_digit = nokia.after_space[len(begun) - len(prefix)]
    assert next_fact_tokens("The Nokia 26", begun, facts) == {next_digit, blue.after_space[0]}
    # a stated fact gets no bonus any more
    said = tiny_tokenizer.encode("The Nokia 2610", add_special_tokens=False)
    assert next_fact_tokens("The Nokia 2610", said, facts) == {blue.after_space[0]}


def test_the_processor_adds_the_bonus_only_with_a_positive_setting(tiny_tokenizer):
    import torch

    from core.grounding import Grounding, fact_tokens, grounding_processor

    ground = Grounding(facts=("Blue",))
    start = fact_tokens(tiny_tokenizer, ["Blue"])[0].line_start[0]
    ids = torch.tensor([[5, 6]])  # the prompt; nothing answered yet
    for bonus, expected in ((0.0, 0.0), (2.5, 2.5)):
        scores = torch.zeros(1, len(tiny_tokenizer))
        out = grounding_processor(tiny_tokenizer, [ground], 2, [2], coverage_bonus=bonus)(ids, scores)
        assert float(out[0, start]) == expected
        assert float(out.sum()) == expected  # nothing else moved


def test_ecommerce_grounding_nudges_towards_the_attributes_coverage_counts():
    pack = get_pack("ecommerce")
    attrs = {"name": "Orion Tee", "price": "$5", "colors": ["Blue"]}
    ex = Example(id="1", text="", target="", reference={"attributes": attrs})
    assert pack.grounding(ex).facts == ("Orion Tee", "Blue")


def test_the_coverage_bonus_is_a_decoding_setting_with_the_packs_default():
    from core.config import build_config
    from core.generate import Decoding

    pack = get_pack("ecommerce")
    cfg = build_config(pack_defaults=pack.default_config(), overrides={"pack": "ecommerce"})
    assert Decoding.for_run(pack, cfg).coverage_bonus == pack.coverage_bonus
    cfg = build_config(pack_defaults=pack.default_config(), overrides={"decoding": {"coverage_bonus": 1.5}})
    assert Decoding.for_run(pack, cfg).coverage_bonus == 1.5
