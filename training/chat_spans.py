"""Assistant-only loss for chat templates without `{% generation %}` markers.

Real checkpoints ship templates (Mistral-Instruct, Llama-3-Instruct, Gemma-it, Qwen2.5-Instruct, OLMoE-Instruct)
that do not mark assistant turns, and TRL only patches the few it knows verbatim. The assistant spans are derived
instead by rendering conversation prefixes and comparing token sequences:

- for assistant turn i, render the conversation up to and including turn i (A) and the same conversation with
  turn i's content emptied (E); A and E agree before and after the reply, so the first differing token is where
  the reply starts and the common suffix marks where it ends;
- the reply's end-of-turn token (the first special token after it: `</s>`, `<|eot_id|>`, `<end_of_turn>`,
  `<|im_end|>`, ...) is trained too, so the model learns to stop;
- A must be a token prefix of the whole rendered conversation. When it is not (the template renders the last
  reply differently, as reasoning templates do with their thoughts), the whole conversation is compared
  with the same conversation with turn i emptied instead; when that does not isolate the reply either, no
  span can be placed: that is an error naming the template.

Rows end at their last assistant turn (later turns carry no loss). Turns that start beyond `max_length` are
not rendered (truncation drops them), so each row costs at most one rendering per reply within `max_length`
(two in the fallback) plus one of the whole conversation.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tracemix.errors import RecipeError


def template_name(tokenizer) -> str:
    """How errors name a template: the tokenizer it came with and a short hash of its text."""
    template = tokenizer.chat_template
    text = template if isinstance(template, str) else str(template)
    source = getattr(tokenizer, "name_or_path", "") or "tokenizer"
    return f"chat template of `{source}` (sha256 {hashlib.sha256(text.encode()).hexdigest()[:12]})"


def _tokens(tokenizer, messages: list[dict[str, Any]]) -> list[int]:
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    # The template writes its own BOS and special tokens, as `apply_chat_template(tokenize=True)` does.
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: list[int], b: list[int], limit: int) -> int:
    i = 0
    while i < limit and a[-1 - i] == b[-1 - i]:
        i += 1
    return i


def special_ids(tokenizer) -> set[int]:
    ids = set(tokenizer.all_special_ids)
    ids |= {i for i, tok in tokenizer.added_tokens_decoder.items() if tok.special}
    return ids


def _reply_span(full: list[int], empty: list[int], specials: set[int]) -> tuple[int, int, int]:
    """(start, end of the reply, end with its end-of-turn token) where `full` and `empty` (the same rendering
    with the reply emptied) differ; the end-of-turn token is the first special token after the reply."""
    start = _common_prefix(full, empty)
    end = len(full) - _common_suffix(full, empty, min(len(full), len(empty)) - start)
    stop = next((j for j in range(end, len(full)) if full[j] in specials), None)
    return start, end, end if stop is None else stop + 1


def assistant_mask(tokenizer, messages: list[dict[str, Any]], max_length: int | None = None,
                   specials: set[int] | None = None) -> tuple[list[int], list[int]]:
    """(input_ids, assistant_masks) of one conversation: 1 on each assistant reply and its end-of-turn token."""
    specials = special_ids(tokenizer) if specials is None else specials
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    messages = messages[:last + 1]
    ids = _tokens(tokenizer, messages)
    mask = [0] * len(ids)
    for i, turn in enumerate(messages):
        if turn["role"] != "assistant" or not turn["content"].strip():
            continue
        emptied = {**turn, "content": ""}
        full = _tokens(tokenizer, messages[:i + 1])
        start, reply_end, end = _reply_span(full, _tokens(tokenizer, [*messages[:i], emptied]), specials)
        if max_length is not None and start >= max_length:
            break  # truncation drops this turn and every later one
        if reply_end <= start:
            raise RecipeError(f"the reply of turn {i} does not appear in the rendering")
        if ids[:end] != full[:end]:
            # The template renders a reply differently once later turns follow it (reasoning templates add or
            # drop thoughts around the last one): compare the whole conversation with this reply emptied.
            tail = full[reply_end:end]
            start, reply_end, _ = _reply_span(ids, _tokens(tokenizer, [*messages[:i], emptied, *messages[i + 1:]]),
                                              specials)
            if reply_end <= start or not _same_reply(tokenizer, ids[start:reply_end], turn["content"]):
                raise RecipeError(f"turn {i} renders differently when later turns follow it")
            if max_length is not None and start >= max_length:
                break
            end = reply_end + len(tail) if ids[reply_end:reply_end + len(tail)] == tail else reply_end
        mask[start:end] = [1] * (end - start)
    return ids, mask


def _same_reply(tokenizer, tokens: list[int], content: str) -> bool:
    """The tokens spell the reply (a first token may carry template whitespace or punctuation with it)."""
    return content.strip() in tokenizer.decode(tokens)


def derive_assistant_masks(dataset, tokenizer, max_length: int | None = None, where: str = "the mixture"):
    """`messages` rows -> `input_ids` + `assistant_masks` (what TRL builds labels from), or a clear error."""
    specials = special_ids(tokenizer)

    def one(row: dict[str, Any], index: int) -> dict[str, list[int]]:
        try:
            ids, mask = assistant_mask(tokenizer, row["messages"], max_length, specials)
        except RecipeError as err:
            raise RecipeError(
                f"{where}: row {index}: cannot derive the assistant spans from the {template_name(tokenizer)}: "
                f"{err}. Add `{{% generation %}}...{{% endgeneration %}}` around the assistant reply in the "
                "template, or set `training.assistant_only_loss: false` to train on whole conversations") from None
        except Exception as err:  # the template itself refused the conversation (roles, raise_exception)
            raise RecipeError(f"{where}: row {index}: the {template_name(tokenizer)} cannot render this "
                              f"conversation ({type(err).__name__}: {err})") from err
        if not any(mask):
            raise RecipeError(f"{where}: row {index}: no assistant token falls within training.max_length "
                              f"({max_length}); raise max_length or shorten the prompt")
        return {"input_ids": ids, "assistant_masks": mask}

    return dataset.map(one, with_indices=True, remove_columns=dataset.column_names,
                       desc="Deriving assistant spans")
