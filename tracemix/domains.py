"""The domain taxonomy every part of tracemix shares (DESIGN.md)."""

from enum import StrEnum


class Domain(StrEnum):
    PURE_CODE = "pure_code"  # standalone source code; prose only as comments/docstrings
    CODE_TEXT = "code_text"  # natural language interleaved with code
    MATH_TEXT = "math_text"  # mathematics expressed with natural language
    GENERAL = "general"  # everything else


DOMAINS: tuple[str, ...] = tuple(d.value for d in Domain)
CODING_DOMAINS: tuple[str, ...] = (Domain.PURE_CODE.value, Domain.CODE_TEXT.value)
