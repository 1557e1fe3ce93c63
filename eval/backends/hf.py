"""transformers backend: batched greedy generation with left padding and the model's chat template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.errors import DataError


def looks_like_path(model: str) -> bool:
    return model.startswith((".", "/", "~")) or Path(model).expanduser().exists() or model.count("/") > 1


def check_model_path(model: str) -> None:
    """A local-looking model that does not exist is a typo, not a hub id: say so before loading anything."""
    path = Path(model).expanduser()
    if looks_like_path(model) and not path.exists():
        raise DataError(f"model path '{model}' does not exist; pass a folder written by `tracemix train` "
                        "(with config.json) or a Hugging Face hub id such as Qwen/Qwen2.5-0.5B-Instruct")
    if path.is_dir() and not (path / "config.json").is_file():
        raise DataError(f"{model}: no config.json; is this a Hugging Face model folder?")


class ChatPrompts:
    """`format`: a prompt as one user turn in the tokenizer's chat template when `use_chat` is on."""

    tokenizer: Any
    use_chat: bool

    def format(self, prompt: str) -> str:
        if not self.use_chat:
            return prompt
        return self.tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                  add_generation_prompt=True)


class HFBackend(ChatPrompts):
    name = "hf"

    def __init__(self, model: str, batch_size: int = 8, chat_template: bool | None = None,
                 device: str | None = None, dtype: str | None = None, seed: int = 0,
                 progress: bool = True) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        check_model_path(model)
        self.model, self.batch_size, self.seed, self.progress = model, batch_size, seed, progress
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if self.device == "cuda" else torch.float32)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(model, padding_side="left")
            self.lm = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).to(self.device).eval()
            if getattr(self.lm.config, "output_router_logits", False):
                # MoE checkpoints saved mid-training keep this on; generation needs no aux loss, and
                # computing it on cached decoding steps fails on a shape mismatch.
                self.lm.config.output_router_logits = False
        except (OSError, ValueError) as err:
            where = "" if Path(model).expanduser().exists() else " (no such local folder, so it was tried as a hub id)"
            raise DataError(f"cannot load model '{model}'{where}: {err}") from None
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.use_chat = bool(self.tokenizer.chat_template) if chat_template is None else chat_template
        # chat models end a turn with their own token (ChatML <|im_end|>); stop there too
        stop = {self.tokenizer.eos_token_id}
        end_turn = self.tokenizer.convert_tokens_to_ids("<|im_end|>") if "<|im_end|>" in self.tokenizer.get_vocab() else None
        if end_turn is not None:
            stop.add(end_turn)
        self.stop_ids = sorted(i for i in stop if i is not None)
        self.generated_tokens = 0

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        import torch
        from tqdm.auto import tqdm

        texts = [self.format(p) for p in prompts]
        # longest first: similar lengths share a batch, so less padding
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out: list[str] = [""] * len(texts)
        torch.manual_seed(self.seed)
        bar = tqdm(total=len(texts), desc=f"generate {Path(self.model).name}", disable=not self.progress,
                   leave=False)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            enc = self.tokenizer([texts[i] for i in idx], return_tensors="pt", padding=True,
                                 add_special_tokens=not self.use_chat).to(self.device)
            with torch.inference_mode():
                gen = self.lm.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                       pad_token_id=self.tokenizer.pad_token_id, eos_token_id=self.stop_ids)
            new = gen[:, enc["input_ids"].shape[1]:]  # (batch, new_tokens)
            self.generated_tokens += int((new != self.tokenizer.pad_token_id).sum())
            for i, row in zip(idx, self.tokenizer.batch_decode(new, skip_special_tokens=True), strict=True):
                out[i] = row
            bar.update(len(idx))
        bar.close()
        return out

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "model": self.model, "device": self.device, "batch_size": self.batch_size,
                "chat_template": self.use_chat, "dtype": str(self.lm.dtype), "decoding": "greedy"}
