"""Byte-level BPE tokenizers trained locally, with a ChatML chat template.

From-scratch pretraining needs a tokenizer that fits the mixture; the chat template marks assistant
turns with `{% generation %}` so TRL can compute the assistant-only loss mask.

    tracemix tokenizer train --data data/mixtures/demo --vocab-size 4096 --output runs/tok
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from pathlib import Path

from tracemix.errors import DataError

EOS, PAD, IM_START, IM_END = "<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = [EOS, PAD, IM_START, IM_END]

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|im_start|>assistant\n' }}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\n' }}"
    "{% else %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int = 4096, output_dir: str | Path | None = None,
                    min_frequency: int = 2):
    """Train a byte-level BPE on `texts`; return a `PreTrainedTokenizerFast` (saved if `output_dir`)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if vocab_size < 256 + len(SPECIAL_TOKENS):
        raise ValueError(f"vocab_size must be at least {256 + len(SPECIAL_TOKENS)} (bytes + special tokens)")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token=EOS, pad_token=PAD, bos_token=EOS, unk_token=None,
        chat_template=CHAT_TEMPLATE, model_max_length=1 << 20,
    )
    if output_dir is not None:
        fast.save_pretrained(str(output_dir))
    return fast


def iter_mixture_texts(data_dir: str | Path) -> Iterator[str]:
    """Texts of the mixture `tracemix train --data` would load (same shards); chats yield each turn's content.

    The folder is read (and checked) on the call, not on the first iteration, so bad input fails early."""
    from training.data import iter_texts, read_dataset

    ds = read_dataset(data_dir)
    if "text" not in ds.column_names and "messages" not in ds.column_names:
        raise DataError(f"{data_dir}: no `text` or `messages` column (found {', '.join(ds.column_names)}); "
                        "cannot train a tokenizer on it")
    return iter_texts(ds)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tracemix tokenizer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    train = sub.add_parser("train", help="train a byte-level BPE tokenizer on a mixture folder")
    train.add_argument("--data", required=True, help="mixture (or tagged) folder with Parquet/JSONL shards")
    train.add_argument("--vocab-size", type=int, default=8192, help="vocabulary size (default: 8192)")
    train.add_argument("--min-frequency", type=int, default=2, help="minimum pair frequency to merge")
    train.add_argument("--output", required=True, help="folder for the Hugging Face tokenizer files")
    args = parser.parse_args(argv)
    tok = train_tokenizer(iter_mixture_texts(args.data), args.vocab_size, args.output, args.min_frequency)
    print(f"tokenizer with {len(tok)} tokens written to {args.output}")
    return 0
