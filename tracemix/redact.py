"""Secret redaction for every message, log line and exception that may carry a server's words.

`redact(text, secrets)` replaces the given secret values and anything shaped like a credential:
Authorization / bearer headers, `sk-...` / `hf_...` keys, `api_key=...`-style pairs, passwords in URLs.
All patterns are linear (no nested quantifiers): server replies are untrusted text.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

MASK = "***"
_ENV_SECRET = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)", re.IGNORECASE)
_PATTERNS = [
    # "Authorization: Bearer abc", "authorization=Basic abc", a header echoed back in a JSON body
    (re.compile(r"(?i)\b((?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token)\s+)?[^\s\"',;}]+"),
     lambda m: f"{m.group(1)}{m.group(2) + ' ' if m.group(2) else ''}{MASK}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{4,}"), lambda m: f"{m.group(1)}{MASK}"),
    (re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_-]{8,}"), lambda m: f"{m.group(1)}-{MASK}"),
    (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), lambda m: f"hf_{MASK}"),
    (re.compile(r"(?i)\b((?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password|x-api-key)[\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"',;&}]+"), lambda m: f"{m.group(1)}{MASK}"),
    (re.compile(r"(://[^/\s:@]+:)[^/\s@]+@"), lambda m: f"{m.group(1)}{MASK}@"),  # https://user:pass@host
]


def env_secrets(names: Iterable[str] = ()) -> list[str]:
    """Values of the named variables plus every variable whose name says key/token/secret/password."""
    # short values ("1", "true") would mask ordinary words; real keys are long (a named key is trusted more)
    out = {v for v in (os.environ.get(n, "") for n in names) if len(v) >= 4}
    out |= {v for k, v in os.environ.items() if _ENV_SECRET.search(k) and len(v) >= 8}
    return sorted(out, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secret values and credential-shaped substrings replaced by ***."""
    text = str(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def redact_values(text: str, secrets: Iterable[str]) -> str:
    """Only the exact secret values: for model output, where credential-like words may be legitimate text."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text
