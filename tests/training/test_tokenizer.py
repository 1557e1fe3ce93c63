def test_tokenizer_round_trips_and_marks_assistant_turns(tiny_tokenizer):
    text = "def add(a, b):\n    return a + b\n"
    assert tiny_tokenizer.decode(tiny_tokenizer(text)["input_ids"]) == text
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    out = tiny_tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                             return_assistant_tokens_mask=True)
    ids, mask = out["input_ids"], out["assistant_masks"]
    marked = tiny_tokenizer.decode([i for i, m in zip(ids, mask, strict=True) if m])
    assert marked == "hello<|im_end|>"
