"""transformers backend: batched greedy generation with left padding and the model's chat template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.checkpoint import load_checkpoint

# Tokenizers without a real limit report a huge model_max_length (1e30 in transformers, 2**20 in ours).
UNSET_MAX_LENGTH = 1_000_000



def context_length(config: Any, tokenizer: Any, override: int | None = None) -> int | None:
    """Positions the model can attend over: `override`, else the config's limit, lowered to the tokenizer's
    model_max_length when that is smaller and set; None when neither says."""
    if override is not None:
        return max(2, int(override))
    text = config.get_text_config() if hasattr(config, "get_text_config") else config
    limits = [getattr(text, k, None) for k in ("max_position_embeddings", "n_positions", "max_sequence_length",
                                               "seq_length")]
    limit = next((v for v in limits if isinstance(v, int) and v > 0), None)
    tok_limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 0 < tok_limit < UNSET_MAX_LENGTH and (limit is None or tok_limit < limit):
        limit = tok_limit
    return None if limit is None else max(2, limit)


def fit_to_context(ids: list[int], max_new_tokens: int, context: int | None,
                   bos_id: int | None = None) -> tuple[list[int], int]:
    """(prompt ids that fit, new-token budget) so that prompt + generation stays within `context`.

    Prompts are cut from the left (the question and the answer cue sit at the end); a leading BOS is kept.
    Generation keeps at least half the context (or all of `max_new_tokens` when that is less), so a
    budget larger than the context is capped rather than leaving no room for the prompt.
    """
    if context is None or len(ids) + max_new_tokens <= context:
        return ids, max_new_tokens
    room = context - min(max_new_tokens, context // 2)
    if len(ids) > room:
        head = ids[:1] if bos_id is not None and ids[0] == bos_id else []
        ids = head + ids[len(ids) - room + len(head):]
    return ids, min(max_new_tokens, context - len(ids))


class ChatPrompts:
    """`format`: a prompt as one user turn in the tokenizer's chat template when `use_chat` is on;
    `encode`: formatted prompts as token ids fitted to `context` (see `fit_to_context`).

    After `generate`, `last_prompt_truncated[i]` says whether prompt i lost tokens to fit the context."""

    tokenizer: Any
    use_chat: bool
    context: int | None = None
    last_prompt_truncated: list[bool]

    def format(self, prompt: str) -> str:
        if not self.use_chat:
            return prompt
        return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)

    def encode(self, prompts: list[str], max_new_tokens: int) -> list[tuple[list[int], int]]:
        # the chat template writes its own special tokens
        full = self.tokenizer([self.format(p) for p in prompts], add_special_tokens=not self.use_chat)["input_ids"]
        fitted = [fit_to_context(list(ids), max_new_tokens, self.context, self.tokenizer.bos_token_id)
                  for ids in full]
        self.last_prompt_truncated = [len(kept) < len(ids) for (kept, _), ids in zip(fitted, full, strict=True)]
        return fitted


class HFBackend(ChatPrompts):
    name = "hf"

    def __init__(self, model: str, batch_size: int = 8, chat_template: bool | None = None,
                 device: str | None = None, dtype: str | None = None, seed: int = 0,
                 progress: bool = True, max_model_len: int | None = None) -> None:
        import torch

        self.model, self.batch_size, self.seed, self.progress = model, batch_size, seed, progress
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = dtype or ("bfloat16" if self.device == "cuda" else "float32")
        self.lm, self.tokenizer = load_checkpoint(model, device=self.device, dtype=dtype, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.use_chat = bool(self.tokenizer.chat_template) if chat_template is None else chat_template
        # chat models end a turn with their own token (ChatML <|im_end|>); stop there too
        stop = {self.tokenizer.eos_token_id}
        end_turn = self.tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in self.tokenizer.get_vocab() else None
        if end_turn is not None:
            stop.add(end_turn)
        self.stop_ids = sorted(i for i in stop if i is not None)
        self.context = context_length(self.lm.config, self.tokenizer, max_model_len)
        self.generated_tokens = 0
        self.last_prompt_truncated = []

    def _batches(self, fitted: list[tuple[list[int], int]]) -> list[list[int]]:
        """Prompt indices per generate call, longest first so similar lengths share a batch (less padding).

        A batch spans its longest prompt plus its largest budget; it closes before that passes the context."""
        order = sorted(range(len(fitted)), key=lambda i: (-len(fitted[i][0]), i))
        batches: list[list[int]] = []
        for i in order:
            batch = batches[-1] if batches else None
            fits = batch is not None and len(batch) < self.batch_size and (
                self.context is None or len(fitted[batch[0]][0]) + max(fitted[i][1], fitted[batch[-1]][1])
                <= self.context)
            if fits:
                batch.append(i)
            else:
                batches.append([i])
        return batches

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        import torch
        from tqdm.auto import tqdm

        fitted = self.encode(prompts, max_new_tokens)
        out: list[str] = [""] * len(prompts)
        torch.manual_seed(self.seed)
        bar = tqdm(total=len(prompts), desc=f"generate {Path(self.model).name}", disable=not self.progress,
                   leave=False)
        for idx in self._batches(fitted):
            enc = self.tokenizer.pad({"input_ids": [fitted[i][0] for i in idx]}, padding=True,
                                     return_tensors="pt").to(self.device)
            budgets = [fitted[i][1] for i in idx]
            with torch.inference_mode():
                gen = self.lm.generate(**enc, max_new_tokens=max(budgets), do_sample=False,
                                       pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.stop_ids)
            new = gen[:, enc["input_ids"].shape[1]:]  # (batch, new_tokens)
            # greedy decoding is causal: a row's first n tokens do not depend on how long the batch ran
            rows = [row[:n].tolist() for row, n in zip(new, budgets, strict=True)]
            self.generated_tokens += sum(t != self.tokenizer.pad_token_id for row in rows for t in row)
            for i, text in zip(idx, self.tokenizer.batch_decode(rows, skip_special_tokens=True), strict=True):
                out[i] = text
            bar.update(len(idx))
        bar.close()
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "device": self.device, "batch_size": self.batch_size,
                "chat_template": self.use_chat, "dtype": str(self.lm.dtype), "max_model_len": self.context,
                "decoding": "greedy"}
