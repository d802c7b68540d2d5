from core.formatting import chat_ids, end_of_turn_ids, fit_prompt, tokenize_example


def _prompt(text="Neither party may assign this Agreement."):
    return [{"role": "system", "content": "You classify contract clauses."}, {"role": "user", "content": text}]


def test_end_of_turn_token_is_supervised(tiny_tokenizer):
    tok = tokenize_example(tiny_tokenizer, _prompt(), '{"label": "Anti-Assignment"}', 256)
    im_end = tiny_tokenizer.convert_tokens_to_ids("<|im_end|>")
    supervised = [t for t, m in zip(tok.input_ids, tok.completion_mask, strict=True) if m]
    assert im_end in supervised, "the model must be trained to emit end-of-turn or it never learns to stop"
    assert tiny_tokenizer.decode(supervised, skip_special_tokens=True).strip() == '{"label": "Anti-Assignment"}'
    # The prompt part is exactly what generation feeds the model.
    prompt_ids = chat_ids(tiny_tokenizer, _prompt(), add_generation_prompt=True)
    assert tok.input_ids[: len(prompt_ids)] == prompt_ids and sum(tok.completion_mask[: len(prompt_ids)]) == 0


def test_long_input_is_cut_not_dropped(tiny_tokenizer):
    long = " ".join(["Liability shall not exceed the fees paid."] * 200)
    tok = tokenize_example(tiny_tokenizer, _prompt(long), '{"label": "Cap on Liability"}', 128)
    assert tok.truncated and len(tok.input_ids) <= 128 and tok.supervised_tokens > 0


def test_fit_prompt_keeps_short_prompts(tiny_tokenizer):
    msgs, cut = fit_prompt(tiny_tokenizer, _prompt(), 500)
    assert not cut and msgs == _prompt()


def test_end_of_turn_ids(tiny_tokenizer):
    assert tiny_tokenizer.convert_tokens_to_ids("<|im_end|>") in end_of_turn_ids(tiny_tokenizer)
