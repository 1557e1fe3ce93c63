"""Tiny configs and mixture folders for the training tests (hidden 32, 2 layers, 4 experts, seq 64)."""

from __future__ import annotations

import pytest

from tracemix.artifacts import write_manifest

ARCH = {
    "llama": {"hidden_size": 32, "intermediate_size": 64},
    "qwen2": {"hidden_size": 32, "intermediate_size": 64},
    "qwen3_moe": {"hidden_size": 32, "intermediate_size": 64, "moe_intermediate_size": 32, "head_dim": 8,
                  "decoder_sparse_step": 1},
    "olmoe": {"hidden_size": 32, "intermediate_size": 32},
    "mixtral": {"hidden_size": 32, "intermediate_size": 32},
}
MOE = {"num_experts": 4, "top_k": 2, "router_aux_loss_coef": 0.01}

# A memorisable corpus: a few short documents repeated, so a tiny model's loss must fall fast.
MEMO_TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "Step 1: 12 + 30 = 42. Step 2: 42 / 6 = 7. The answer is 7.",
    "The river flows through the old town and the market opens at dawn.",
    "for i in range(10):\n    print(i * i)\n",
] * 8


def tiny_config(tokenizer, model_type: str = "qwen3_moe", objective: str = "causal_lm", **training) -> dict:
    from_config = {"model_type": model_type, "num_hidden_layers": 2, "num_attention_heads": 4,
                   "num_key_value_heads": 2, "max_position_embeddings": 128, **ARCH[model_type]}
    model = {"from_config": from_config, "dtype": "float32"}
    if model_type in ("qwen3_moe", "olmoe", "mixtral"):
        model["moe"] = dict(MOE)
    return {
        "name": f"tiny_{model_type}", "objective": objective, "seed": 7, "tokenizer": str(tokenizer),
        "model": model,
        "training": {"max_steps": 8, "per_device_train_batch_size": 4, "learning_rate": 1e-2,
                     "lr_scheduler_type": "constant", "max_length": 64, "precision": "fp32",
                     "logging_steps": 1, "save_steps": 100, **training},
    }


def write_text_mixture(root, texts=MEMO_TEXTS):
    import polars as pl

    root.mkdir(parents=True, exist_ok=True)
    domains = ["pure_code", "math_text", "general", "pure_code"]
    pl.DataFrame({
        "id": [f"doc-{i}" for i in range(len(texts))], "text": texts, "source": ["test"] * len(texts),
        "domain": [domains[i % 4] for i in range(len(texts))],
        "scaffold_score": [0.5] * len(texts),
    }).write_parquet(root / "00000.parquet")
    write_manifest(root, "mixture", {"recipe": "memo"})
    return root


def write_chat_mixture(root, chats):
    import polars as pl

    root.mkdir(parents=True, exist_ok=True)
    flat = ["\n\n".join(f"{m['role']}: {m['content']}" for m in chat) for chat in chats]
    pl.DataFrame({
        "id": [f"chat-{i}" for i in range(len(chats))], "text": flat, "source": ["test-chat"] * len(chats),
        "domain": ["code_text"] * len(chats), "messages": chats,
    }).write_parquet(root / "00000.parquet")
    write_manifest(root, "mixture", {"recipe": "chats"})
    return root


CHATS = [
    [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
     {"role": "user", "content": "add 2 and 3"}, {"role": "assistant", "content": "2 + 3 = 5"}],
    [{"role": "system", "content": "be brief"}, {"role": "user", "content": "first letter of river?"},
     {"role": "assistant", "content": "r"}],
] * 8


@pytest.fixture
def text_mixture(tmp_path):
    return write_text_mixture(tmp_path / "mix")


@pytest.fixture
def chat_mixture(tmp_path):
    return write_chat_mixture(tmp_path / "chats", CHATS)


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
