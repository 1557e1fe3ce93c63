"""The LLM labelling step on datatrove's own inference runner, for GPU clusters.

`tracemix classifier label` calls an endpoint from one process. At scale, datatrove's `InferenceRunner`
(datatrove.pipeline.inference) starts a vLLM server next to each task (or calls a running endpoint),
keeps thousands of requests in flight, checkpoints and resumes, and runs under the Local, Slurm or Ray
executor. This module plugs the same prompt and strict parser into it; the output rows are the same
LABELED.jsonl rows, so `tracemix classifier train` reads them unchanged.
"""

from __future__ import annotations

import importlib.util
from functools import partial
from typing import Any

from curation.classifiers.llm_label import (
    MAX_CHARS,
    REPAIR_PROMPT,
    SYSTEM_PROMPT,
    USER_TEMPLATE,
    InvalidAnswer,
    parse_answer,
    truncate,
)
from tracemix.errors import TracemixError

SERVER_TYPES = ("vllm", "endpoint")


async def label_rollout(document, generate, *, model: str, max_chars: int = MAX_CHARS,
                        max_invalid_retries: int = 1) -> dict[str, Any] | None:
    """One document -> `{"label", "scaffold", "scaffold_rating", "reason", "labeler"}`, or None when the
    answers stay invalid (datatrove then drops the document and counts it as a failed rollout)."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": USER_TEMPLATE.format(text=truncate(document.text, max_chars))}]
    for _ in range(max_invalid_retries + 1):
        result = await generate({"messages": messages})
        try:
            label = parse_answer(result.text)
        except InvalidAnswer as err:
            messages = messages[:2] + [{"role": "assistant", "content": result.text},
                                       {"role": "user", "content": REPAIR_PROMPT.format(error=err)}]
            continue
        return {"label": label.domain, "scaffold": round(label.scaffold_score, 6),
                "scaffold_rating": label.scaffold, "reason": label.reason, "labeler": f"llm:{model}"}
    return None


def labeled_row(writer, document) -> dict[str, Any]:
    """JsonlWriter adapter: a LABELED.jsonl row (the same fields as `tracemix classifier label`)."""
    result = document.metadata["rollout_results"][0]
    return {"id": document.id, "text": document.text, **result}


def _check_dependencies(server_type: str, checkpoints: bool) -> None:
    if importlib.util.find_spec("datatrove.pipeline.inference") is None:
        raise TracemixError("this datatrove has no pipeline.inference module; install datatrove>=0.6")
    # datatrove imports these lazily, mid-run; a missing one would only surface as lost documents.
    needed = ["httpx", "aiofiles"] + (["aiosqlite", "xxhash"] if checkpoints else [])
    missing = [m for m in needed if importlib.util.find_spec(m) is None]
    if server_type == "vllm" and importlib.util.find_spec("vllm") is None:
        missing.append("vllm")
    if missing:
        pip = [m for m in missing if m != "vllm"]
        hint = " and ".join(([f"pip install {' '.join(pip)}"] if pip else [])
                            + (["on a GPU machine pip install 'tracemix[vllm]'"] if "vllm" in missing else []))
        raise TracemixError(f"datatrove's inference step needs {', '.join(missing)}, which is not installed: "
                            f"{hint}. Without them, use `tracemix classifier label --base-url ...` "
                            "against a running vLLM or OpenAI-compatible server.")


def build_label_pipeline(input: str, output: str, model: str, *, server_type: str = "vllm",
                         endpoint_url: str | None = None, max_concurrency: int = 256,
                         model_max_context: int = 8192, tp: int = 1, max_chars: int = MAX_CHARS,
                         limit: int = -1, checkpoints_dir: str | None = None,
                         model_kwargs: dict | None = None) -> list:
    """Reader -> datatrove `InferenceRunner` (vLLM or an endpoint) -> JSONL rows in `output/`.

    server_type "vllm" starts `vllm serve MODEL` per task (a GPU machine with the `vllm` extra);
    "endpoint" sends requests to `endpoint_url` (e.g. http://gpu-node:8000), a server already running; it is
    checked here with `tracemix.openai_client` (reachable, key accepted) before any task starts.
    The key for a hosted endpoint is read by the OpenAI client from OPENAI_API_KEY in each worker, so it
    never enters the pickled pipeline. Hand the list to a datatrove executor.
    """
    if server_type not in SERVER_TYPES:
        raise TracemixError(f"server_type must be one of {SERVER_TYPES}, got {server_type!r}")
    if server_type == "endpoint" and not endpoint_url:
        raise TracemixError("server_type 'endpoint' needs endpoint_url, e.g. http://localhost:8000")
    if server_type == "endpoint":  # fail now, with a redacted message, rather than as lost documents mid-run
        from tracemix.openai_client import OpenAIClient

        OpenAIClient(f"{endpoint_url.rstrip('/')}/v1", model, max_retries=0).check()
    _check_dependencies(server_type, checkpoints=checkpoints_dir is not None)
    from datatrove.pipeline.inference.run_inference import InferenceConfig, InferenceRunner
    from datatrove.pipeline.writers import JsonlWriter

    from curation.tagging.readers import resolve_input

    config = InferenceConfig(
        server_type=server_type, model_name_or_path=model, endpoint_url=endpoint_url,
        model_max_context=model_max_context, use_chat=True, tp=tp, model_kwargs=model_kwargs,
        default_generation_params={"temperature": 0.0, "max_tokens": 200},
        max_concurrent_generations=max_concurrency,
    )
    # Checkpointed runs write one file per chunk so a restarted task re-uploads finished chunks only.
    filename = "${rank}_chunk_${chunk_index}.jsonl" if checkpoints_dir else "${rank}.jsonl"
    writer = JsonlWriter(output, output_filename=filename, compression=None, adapter=labeled_row)
    runner = InferenceRunner(rollout_fn=partial(label_rollout, model=model, max_chars=max_chars),
                             config=config, output_writer=writer, checkpoints_local_dir=checkpoints_dir)
    return [resolve_input(input, limit=limit), runner]
