"""vLLM backend: the offline engine for fast generation on a GPU (optional dependency)."""

from __future__ import annotations

from typing import Any

from eval.backends.hf import ChatPrompts, check_model_path
from tracemix.errors import TracemixError


class VLLMBackend(ChatPrompts):
    name = "vllm"

    def __init__(self, model: str, batch_size: int = 256, chat_template: bool | None = None, seed: int = 0,
                 gpu_memory_utilization: float = 0.85, max_model_len: int | None = None,
                 dtype: str = "auto", progress: bool = True, **engine_kw: Any) -> None:
        try:
            import vllm
        except ImportError:
            raise TracemixError("the vllm backend needs vLLM and a CUDA GPU: pip install 'tracemix[vllm]', "
                                "or use --backend hf") from None
        import torch

        if not torch.cuda.is_available():
            raise TracemixError("the vllm backend needs a CUDA GPU and none is visible; use --backend hf")
        check_model_path(model)
        self.model, self.batch_size, self.seed, self.progress = model, batch_size, seed, progress
        self.llm = vllm.LLM(model=model, seed=seed, dtype=dtype, gpu_memory_utilization=gpu_memory_utilization,
                            max_model_len=max_model_len, max_num_seqs=batch_size, **engine_kw)
        self.tokenizer = self.llm.get_tokenizer()
        self.use_chat = bool(getattr(self.tokenizer, "chat_template", None)) if chat_template is None else chat_template
        self.generated_tokens = 0

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(temperature=0.0, max_tokens=max_new_tokens, seed=self.seed)
        outputs = self.llm.generate([self.format(p) for p in prompts], params, use_tqdm=self.progress)
        self.generated_tokens += sum(len(o.outputs[0].token_ids) for o in outputs)
        return [o.outputs[0].text for o in outputs]

    def describe(self) -> dict[str, Any]:
        import vllm

        return {"backend": self.name, "model": self.model, "vllm": vllm.__version__, "max_num_seqs": self.batch_size,
                "chat_template": self.use_chat, "decoding": "greedy"}
