"""Answer extraction by an LLM, as the IFT study did with GPT-3.5: the model reads the question and
the response and replies with the final answer only; the matching rule then normalises that reply."""

from __future__ import annotations

from typing import Any

from eval.extract import extract
from eval.task import AnswerType, TaskConfig

SYSTEM = ("You extract final answers. Reply with the final answer only, with no explanation. "
          "If the response gives no answer, reply NONE.")
_FORMAT = {
    AnswerType.NUMBER: "a single number",
    AnswerType.CHOICE: "the option letter only",
    AnswerType.STRING: "the short answer (a word or a few words)",
    AnswerType.LIST: "the list, items separated by commas",
}


def extraction_prompt(task: TaskConfig, prompt: str, generation: str) -> str:
    return (f"Question:\n{prompt}\n\nResponse:\n{generation}\n\n"
            f"What final answer does the response give? Reply with {_FORMAT[task.answer_type]}.")


class LLMExtractor:
    """Extract answers with an OpenAI-compatible model (`base_url`, `model`; key from the environment).

    Requests go through the openai backend (`tracemix.openai_client`): same retries, caches and redaction."""

    def __init__(self, model: str = "gpt-3.5-turbo", base_url: str | None = None, **kw: Any) -> None:
        from eval.backends.openai import OpenAIBackend

        self.backend = OpenAIBackend(model, base_url=base_url, system_prompt=SYSTEM, **kw)

    def extract(self, task: TaskConfig, prompts: list[str], generations: list[str],
                options: list[list[str] | None]) -> list[str | None]:
        if task.answer_type == AnswerType.CODE:
            return [None] * len(prompts)  # programs are run, not read
        replies = self.backend.generate([extraction_prompt(task, p, g) for p, g in zip(prompts, generations,
                                                                                    strict=True)], 64)
        out: list[str | None] = []
        for reply, opts in zip(replies, options, strict=True):
            reply = reply.strip()
            if not reply or reply.upper().rstrip(".") == "NONE":
                out.append(None)
                continue
            # the reply is bare, so the same rule normalises it ("$1,200." -> "1200", "(B)" -> "B")
            out.append(extract(task.extractor or "", f"The answer is {reply}", opts) or reply)
        return out

    def describe(self) -> dict[str, Any]:
        return self.backend.client.describe()
