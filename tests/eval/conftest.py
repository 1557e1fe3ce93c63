"""Eval fixtures: a tiny causal LM saved with the locally trained tokenizer."""

from __future__ import annotations

import pytest


def save_tiny_llama(out, tokenizer_dir, max_position_embeddings: int = 1024):
    """A tiny random Llama saved with the locally trained tokenizer; returns its folder."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2,
                         max_position_embeddings=max_position_embeddings, pad_token_id=tok.pad_token_id,
                         eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id)
    AutoModelForCausalLM.from_config(config).save_pretrained(str(out))
    tok.save_pretrained(str(out))
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, tiny_tokenizer_dir):
    return save_tiny_llama(tmp_path_factory.mktemp("tiny_model"), tiny_tokenizer_dir)
