"""Shared fixtures: everything offline, built from configs and the project's own generators."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("COLUMNS", "200")  # rich wraps at the terminal width; keep printed lines whole in tests

_TOKENIZER_CORPUS = [
    "def add(a, b):\n    return a + b\n",
    "for i in range(10):\n    print(i * i)\n",
    "The derivative of x^2 is 2x, so the slope at x = 3 is 6.",
    "Step 1: 12 + 30 = 42. Step 2: 42 / 6 = 7. The answer is 7.",
    "The river flows through the old town and the market opens at dawn.",
    "Question: what is the first letter of each word? Answer: the letters are a, b, c.",
] * 20


@pytest.fixture(scope="session")
def tiny_tokenizer_dir(tmp_path_factory):
    """A byte-level BPE tokenizer (vocab 512) with a ChatML template, trained locally."""
    from training.tokenizer import train_tokenizer

    out = tmp_path_factory.mktemp("tokenizer")
    train_tokenizer(_TOKENIZER_CORPUS, vocab_size=512, output_dir=out, min_frequency=1)
    return out


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(tiny_tokenizer_dir))
