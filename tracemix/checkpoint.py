"""The one checkpoint loader: a causal LM and its tokenizer from a local folder or a hub id.

Used by everything that runs a trained model for inference (probes, the transformers eval backend, held-out
loss). A local-looking path that does not exist is reported as a typo before transformers is asked; anything
else is passed to `from_pretrained`, so hub ids keep working and honour `HF_HUB_OFFLINE` like transformers
does (offline, only cached ids load).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tracemix.errors import DataError, TracemixError

_HINT = ("pass a folder written by `tracemix train` (with config.json) or a Hugging Face hub id available "
         "offline, such as Qwen/Qwen2.5-0.5B-Instruct")


def looks_like_path(source: str) -> bool:
    """A relative/absolute path, an existing file system entry, or more than one '/' (hub ids have one)."""
    return source.startswith((".", "/", "~")) or Path(source).expanduser().exists() or source.count("/") > 1


def check_model_path(source: str | Path) -> None:
    """A local-looking model that does not exist is a typo, not a hub id: say so before loading anything."""
    source = str(source)
    path = Path(source).expanduser()
    if looks_like_path(source) and not path.exists():
        raise DataError(f"model path '{source}' does not exist; {_HINT}")
    if path.is_dir() and not (path / "config.json").is_file():
        raise DataError(f"{source}: no config.json; is this a Hugging Face model folder?")


def _failed(what: str, source: str, err: Exception) -> str:
    """One line: transformers' reason (its newlines folded), and whether the source was tried as a hub id."""
    tried = "" if Path(source).expanduser().exists() else " (no such local folder, so it was tried as a hub id)"
    return f"cannot load a {what} from '{source}'{tried}: {' '.join(str(err).split()).rstrip('.')}."


def resolve_device(device: str | None):
    """'auto'/None -> cuda when visible, else cpu; an explicit cuda device without CUDA is an error."""
    import torch

    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TracemixError(f"--device {device} requested but no CUDA device is visible; use --device cpu.")
    return torch.device(device)


def _dtype(dtype: Any):
    """'auto' (the checkpoint's saved dtype) passes through; a name such as 'bfloat16' becomes torch's dtype."""
    import torch

    if dtype is None or dtype == "auto" or isinstance(dtype, torch.dtype):
        return "auto" if dtype is None else dtype
    value = getattr(torch, str(dtype), None)
    if not isinstance(value, torch.dtype):
        raise TracemixError(f"unknown dtype '{dtype}'; use auto, float32, bfloat16 or float16.")
    return value


def load_model(source: str | Path, *, device: str | None = None, dtype: Any = "auto",
               device_map: str | dict | None = None, trust_remote_code: bool = False):
    """An AutoModelForCausalLM in eval mode: on `device` ('auto': cuda when visible), or spread by
    accelerate with `device_map` (then `device` is ignored). Router logits are switched off: they only feed
    the training-time auxiliary loss, and computing it on cached decoding steps fails."""
    from transformers import AutoModelForCausalLM

    source = str(source)
    check_model_path(source)
    kwargs: dict[str, Any] = {"dtype": _dtype(dtype), "trust_remote_code": trust_remote_code}
    if device_map:
        kwargs["device_map"] = device_map
    try:
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        raise DataError(f"{_failed('model', source, err)} {_HINT[0].upper()}{_HINT[1:]}.") from err
    if not device_map:
        model.to(resolve_device(device))
    if getattr(model.config, "output_router_logits", False):
        model.config.output_router_logits = False
    return model.eval()


def load_tokenizer(source: str | Path, *, padding_side: str | None = None):
    """The tokenizer saved with a checkpoint (or any tokenizer folder / hub id)."""
    from transformers import AutoTokenizer

    source = str(source)
    kwargs = {"padding_side": padding_side} if padding_side else {}
    try:
        return AutoTokenizer.from_pretrained(source, **kwargs)
    except (OSError, ValueError) as err:
        raise DataError(f"{_failed('tokenizer', source, err)} Pass the checkpoint folder, or a tokenizer folder "
                        "with --tokenizer.") from err


def load_checkpoint(source: str | Path, *, tokenizer: str | Path | None = None, device: str | None = None,
                    dtype: Any = "auto", device_map: str | dict | None = None, padding_side: str | None = None,
                    trust_remote_code: bool = False):
    """(model, tokenizer) of one checkpoint; `tokenizer` points elsewhere when the checkpoint has none."""
    check_model_path(source)
    tok = load_tokenizer(tokenizer or source, padding_side=padding_side)
    model = load_model(source, device=device, dtype=dtype, device_map=device_map,
                       trust_remote_code=trust_remote_code)
    return model, tok
