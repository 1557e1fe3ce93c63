"""vLLM backend: the offline engine for fast generation on a GPU (optional dependency)."""

from __future__ import annotations

from typing import Any

from eval.backends.hf import ChatPrompts
from tracemix.checkpoint import check_model_path
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
        # the engine's limit (config or --max-model-len); a prompt longer than it is rejected, failing the run
        self.context = getattr(getattr(self.llm.llm_engine, "model_config", None), "max_model_len", None) \
            or max_model_len
        self.generated_tokens = 0
        self.last_prompt_truncated = []

    def generate(self, prompts: list[str], max_new_tokens: int) -> list[str]:
        from vllm import SamplingParams

        # token ids, cut to fit the context exactly as the hf backend does, each with its own budget
        fitted = self.encode(prompts, max_new_tokens)
        params = [SamplingParams(temperature=0.0, max_tokens=budget, seed=self.seed) for _, budget in fitted]
        outputs = self.llm.generate([{"prompt_token_ids": ids} for ids, _ in fitted], sampling_params=params,
                                    use_tqdm=self.progress)
        self.generated_tokens += sum(len(o.outputs[0].token_ids) for o in outputs)
        return [o.outputs[0].text for o in outputs]

    def describe(self) -> dict[str, Any]:
        import vllm

        return {"backend": self.name, "model": self.model, "vllm": vllm.__version__, "max_num_seqs": self.batch_size,
                "chat_template": self.use_chat, "max_model_len": self.context, "decoding": "greedy"}
