"""Typed settings of a routing probe, shared by `tracemix probe`, `run_probe` callers and sweeps.

`check()` validates the data folders and domain names without loading a model, so a sweep with a missing
probe folder fails before it mixes or trains anything.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from tracemix.config import ConfigModel, did_you_mean
from tracemix.domains import DOMAINS
from tracemix.errors import RecipeError, TracemixError


class Device(StrEnum):
    AUTO = "auto"  # cuda when available, else cpu
    CPU = "cpu"
    CUDA = "cuda"


def check_data_folder(folder: str | Path, key: str) -> None:
    """A tagged or mixture folder that holds shards with `text` and `domain`; reads no rows.

    Errors read "KEY: message" so the caller's file and key come first.
    """
    from probes.data import _column_names, _shards

    try:
        shards = _shards(Path(folder))
        for shard in shards[:1]:  # one shard proves the layout; reading every schema can be slow
            missing = [c for c in ("text", "domain") if c not in _column_names(shard)]
            if missing:
                raise RecipeError(f"{shard} has no {', '.join(missing)} column; point it at a folder written by "
                                  "`tracemix tag` or `tracemix mix`")
    except TracemixError as err:
        raise RecipeError(f"{key}: {err}") from None


class ProbeSettings(ConfigModel):
    """What `tracemix probe` measures and on which data (see `tracemix probe --help`)."""

    data: str | list[str] | None = None  # tagged or mixture folder(s); a sweep defaults to its recipe's source
    tokenizer: str | None = None  # default: the model's
    max_tokens_per_domain: int = Field(100_000, gt=0)
    batch_size: int = Field(8, gt=0)
    seq_len: int = Field(512, gt=0)  # longer documents are cut into windows
    device: Device = Device.AUTO
    device_map: str | None = None  # e.g. "auto" to spread a large checkpoint with accelerate
    sample_tokens: int = Field(2048, ge=0)  # tokens per domain kept for router saturation
    domains: list[str] | None = None  # default: every domain found
    shard: tuple[int, int] = (0, 1)  # probe only data shard I of N; `tracemix probe merge` sums them

    @field_validator("shard", mode="before")
    @classmethod
    def _shard_text(cls, value: Any) -> Any:
        if isinstance(value, str):  # "I/N" as on the command line
            index, _, count = value.partition("/")
            if not (index.strip().isdigit() and count.strip().isdigit()):
                raise ValueError(f"'{value}' is not I/N, e.g. 0/4")
            return int(index), int(count)
        return tuple(value) if isinstance(value, list) else value  # a YAML / JSON list

    @field_validator("shard")
    @classmethod
    def _shard_in_range(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] < value[1]:
            raise ValueError(f"{value[0]}/{value[1]}: need 0 <= I < N, e.g. 0/4")
        return value

    def folders(self) -> list[str]:
        return [] if self.data is None else [self.data] if isinstance(self.data, str) else list(self.data)

    def check(self, where: str = "") -> None:
        """The data folders hold tagged shards and the domains are known; errors read "{where}KEY: message"."""
        for folder in self.folders():
            check_data_folder(folder, f"{where}data")
        for domain in self.domains or []:
            if domain not in DOMAINS:
                raise RecipeError(f"{where}domains: unknown domain '{domain}'{did_you_mean(domain, DOMAINS)}; "
                                  f"known: {', '.join(DOMAINS)}")

    def run(self, model: Any, output: str | Path, **kw: Any) -> dict[str, Any]:
        """`run_probe` with these settings (`data` must be set); `kw` adds progress= and the like."""
        from probes.run import run_probe

        folders = self.folders()
        if not folders:
            raise RecipeError("data: give a tagged folder to probe on")
        return run_probe(model, folders[0] if len(folders) == 1 else folders, output, tokenizer=self.tokenizer,
                         max_tokens_per_domain=self.max_tokens_per_domain, batch_size=self.batch_size,
                         seq_len=self.seq_len, device=None if self.device == Device.AUTO else str(self.device),
                         device_map=self.device_map, sample_tokens=self.sample_tokens, domains=self.domains,
                         shard=self.shard, **kw)
