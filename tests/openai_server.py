"""A real OpenAI-compatible HTTP server for tests (stdlib `http.server` on 127.0.0.1, in a thread).

Routes: `GET /v1/models`, `POST /v1/chat/completions`, `POST /v1/completions`. Answers come from
`reply(prompt, body)` (the last message or the prompt); the default `planted_label` answers a labelling
request from markers in the document. Markers anywhere in the first user message also steer transport:

    [label:math_text scaffold:2]   planted_label answers {"domain": "math_text", "scaffold": 2, ...}
    [fence]                        planted_label wraps that answer in a ```json fence
    [invalid] / [invalid-once]     prose instead of JSON (always / on the first request only)
    [429-once] / [500-once]        fail the first request for this document with that status
    [500]                          always fail with 500

Attributes switch behaviour at run time: `reply`, `model_card` (the `/v1/models` entry), `fail_first`
(that many initial 503s), `retry_after` (header on 429s), `echo_auth` (the Authorization header is
echoed into answers, error bodies and a response header, as careless servers do), `malformed`
("not-json", "no-choices", "content-list", "error-200": 200 replies that break the API). It records
request bodies, headers and the maximum number of requests in flight.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[str, dict[str, Any]], str]
_LABEL = re.compile(r"\[label:(\w+) scaffold:(\d+)\]")


def first_user(body: dict[str, Any]) -> str:
    messages = body.get("messages") or []
    return next((m["content"] for m in messages if m.get("role") == "user"), body.get("prompt", ""))


def planted_label(prompt: str, body: dict[str, Any]) -> str:
    """The labelling answer planted in the document: `[label:D scaffold:N]`, `[fence]`, `[invalid]`."""
    doc = first_user(body)
    m = _LABEL.search(doc)
    domain, scaffold = (m.group(1), int(m.group(2))) if m else ("general", 0)
    content = json.dumps({"domain": domain, "scaffold": scaffold, "reason": "planted label"})
    return f"```json\n{content}\n```" if "[fence]" in doc else content


def answer_key(replies: dict[str, str], default: str = "I do not know.") -> Reply:
    """Reply by prompt; an extraction request (the LLM-extractor system prompt) is answered with the
    reply of the question it quotes, so an LLM extractor 'reads' the intended answer."""
    from eval.llm_extract import SYSTEM

    def reply(prompt: str, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        if messages and messages[0]["role"] == "system" and messages[0]["content"] == SYSTEM:
            question = prompt.split("Question:\n", 1)[1].split("\n\nResponse:\n", 1)[0]
            return replies.get(question, default)
        return replies.get(prompt, default)

    return reply


class FakeOpenAIServer:
    def __init__(self, reply: Reply | None = None, *, delay: float = 0.0, fail_first: int = 0,
                 model: str = "fake-model", model_card: dict[str, Any] | None = None, echo_auth: bool = False,
                 malformed: str | None = None, retry_after: str = "0"):
        self.reply = reply or planted_label
        self.delay, self.fail_first, self.model = delay, fail_first, model
        self.model_card = model_card
        self.echo_auth, self.malformed, self.retry_after = echo_auth, malformed, retry_after
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.auth_headers: list[str] = []
        self.per_document: Counter[str] = Counter()
        self.model_requests = 0
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    # -- behaviour ---------------------------------------------------------------------------------------
    def answer(self, path: str, body: dict[str, Any], auth: str) -> tuple[int, Any]:
        """(status, JSON body or raw bytes) for one completion request."""
        doc = first_user(body)
        with self._lock:
            self.per_document[doc] += 1
            seen = self.per_document[doc]
            fail = len(self.requests) <= self.fail_first
        echo = f" (you sent Authorization: {auth})" if self.echo_auth else ""
        if fail:
            return 503, {"error": {"message": f"overloaded{echo}", "type": "server_error"}}
        if "[500]" in doc or ("[500-once]" in doc and seen == 1):
            return 500, {"error": {"message": f"internal error{echo}", "type": "server_error"}}
        if "[429-once]" in doc and seen == 1:
            return 429, {"error": {"message": f"rate limited{echo}", "type": "rate_limit_exceeded"}}
        if self.malformed == "not-json":
            return 200, b"<html>502 Bad Gateway</html>"
        if self.malformed == "error-200":
            return 200, {"error": {"message": f"model overloaded{echo}"}}
        if self.malformed == "no-choices":
            return 200, {"id": "x", "object": "chat.completion", "choices": []}
        chat = path.endswith("/chat/completions")
        prompt = body["messages"][-1]["content"] if chat else body.get("prompt", "")
        if "[invalid]" in doc or ("[invalid-once]" in doc and seen == 1):
            text = "I think this document is about code."
        else:
            text = self.reply(prompt, body)
        text += echo
        content: Any = [{"type": "text", "text": text}] if self.malformed == "content-list" else text
        choice = ({"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
                  if chat else {"index": 0, "text": content, "finish_reason": "stop"})
        n = len(text.split())
        return 200, {"id": f"cmpl-{len(self.requests)}", "object": "chat.completion" if chat else "text_completion",
                     "created": int(time.time()), "model": body.get("model", self.model), "choices": [choice],
                     "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}}

    def models(self) -> dict[str, Any]:
        card = self.model_card or {"id": self.model, "object": "model", "owned_by": "tests"}
        # vLLM stamps `created` afresh on every call: identity must not depend on it
        return {"object": "list", "data": [{**card, "created": int(time.time() * 1000)}]}

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)  # the client may have given up (a timeout test): nothing to answer

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path.rstrip("/").endswith("/v1/models"):
                    with server._lock:
                        server.model_requests += 1
                    self._send(200, server.models())
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                path = self.path.rstrip("/")
                if path not in ("/v1/chat/completions", "/v1/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                auth = self.headers.get("Authorization", "")
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.auth_headers.append(auth)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    status, payload = server.answer(path, body, auth)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                headers = {"Retry-After": server.retry_after} if status == 429 else {}
                if server.echo_auth:
                    headers["X-Echo-Authorization"] = auth
                self._send(status, payload, headers)

        return Handler
