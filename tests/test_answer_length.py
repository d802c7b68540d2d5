"""Answers kept inside a length range in words: cut after the last sentence inside the range, no end before the low
end, and the option comes from the pack then the run's config."""

import torch

from core.answer_length import end_within_words, first_end, min_words_processor
from core.config import build_config
from core.generate import Decoding
from core.pack import get_pack


def words(n: int, start: int = 0) -> str:
    return " ".join(f"w{i}" for i in range(start, start + n))


def test_an_answer_inside_the_range_is_not_cut():
    assert end_within_words(words(10) + ".", 5, 20) is None
    assert end_within_words(words(20) + ".", 5, 20) is None  # exactly the high end


def test_a_long_answer_is_cut_after_its_last_sentence_inside_the_range():
    first, second, third = words(6) + ".", words(8, 6) + ".", words(10, 14) + "."
    text = f"{first} {second} {third}"  # 6, 14 then 24 words
    end = end_within_words(text, 5, 20)
    assert text[:end] == f"{first} {second}"
    assert end_within_words(text, 10, 20) == len(f"{first} {second}")
    # a line end counts as a sentence end (bullet lists), and the newline itself is not kept
    bullets = "\n".join(f"- {words(4, 4 * i)}" for i in range(8))  # 8 lines of 5 words
    end = end_within_words(bullets, 5, 22)
    assert bullets[:end] == "\n".join(bullets.split("\n")[:4])


def test_no_cut_when_no_sentence_ends_inside_the_range():
    assert end_within_words(words(30), 5, 20) is None  # one long sentence: left for the length check to report
    text = words(3) + ". " + words(30, 3)  # the only sentence end leaves 3 words, under the low end
    assert end_within_words(text, 5, 20) is None


def test_decimal_points_and_abbreviations_inside_a_word_are_not_sentence_ends():
    text = "Holds 2.5 litres of water and more " + words(20) + "."
    assert end_within_words(text, 3, 10) is None


def test_first_end_takes_the_earliest_rule():
    assert first_end(None, None) is None
    rule = first_end(lambda t: 7, lambda t: None, lambda t: 3)
    assert rule is not None and rule("anything") == 3
    assert first_end(None, lambda t: None)("x") is None


def test_end_of_turn_is_refused_until_the_answer_has_enough_words(tiny_tokenizer):
    tok = tiny_tokenizer
    stop = tok.eos_token_id
    short = tok.encode("one two", add_special_tokens=False)
    long = tok.encode("one two three four", add_special_tokens=False)
    width = max(len(short), len(long))
    prompt = [5, 6, 7]
    ids = torch.tensor([prompt + [0] * (width - len(short)) + short, prompt + [0] * (width - len(long)) + long])
    starts = [3 + width - len(short), 3 + width - len(long)]
    prompt_of_row = [10, 11]  # a rolling batch's live view: which prompt each row holds now
    proc = min_words_processor(tok, starts, [stop], 3, prompt_of_row=prompt_of_row)
    out = proc(ids, torch.zeros(2, len(tok)))
    assert out[0, stop] == float("-inf") and torch.isfinite(out[0, :stop]).all()
    assert torch.isfinite(out[1]).all()  # four words: it may end
    # the rows swap places (the batch rolled): each prompt keeps its own state
    starts.reverse()
    prompt_of_row.reverse()
    again = proc(ids[[1, 0]], torch.zeros(2, len(tok)))
    assert torch.isfinite(again[0]).all() and again[1, stop] == float("-inf")


def test_keep_length_comes_from_the_pack_then_the_run_config():
    ecommerce = get_pack("ecommerce")
    lo, hi = ecommerce.answer_words()
    on = Decoding.for_run(ecommerce, build_config(overrides={"decoding": {"keep_length": True}}))
    off = Decoding.for_run(ecommerce, build_config(overrides={"decoding": {"keep_length": False}}))
    default = Decoding.for_run(ecommerce, build_config())
    assert on.min_words == lo and off.min_words == 0
    assert default.min_words == lo  # the e-commerce pack decodes inside its range unless told not to
    long = "Soft tee.\n" + " ".join(f"{words(4, 4 * i)}." for i in range(40))  # 40 different sentences
    cut = on.answer_end(long)
    assert cut is not None and lo <= len(long[:cut].split()) <= hi
    assert off.answer_end(long) is None  # the repeated-line rule alone: nothing repeats
    assert on.answer_end("Soft tee.\n- Machine wash/dry.\n- Machine wash.") == len("Soft tee.\n- Machine wash/dry.\n")
    assert get_pack("legal").answer_words() is None
