"""A real OpenAI-compatible HTTP server for tests (stdlib `http.server` on 127.0.0.1, in a thread).

It serves `POST /v1/chat/completions` and `GET /v1/models`. Behaviour is planted in the document text:

    [label:math_text scaffold:2]   answer {"domain": "math_text", "scaffold": 2, "reason": "..."}
    [fence]                        wrap that answer in a ```json fence
    [invalid] / [invalid-once]     answer prose instead of JSON (always / on the first request only)
    [429-once] / [500-once]        fail the first request with that status
    [500]                          always fail with 500

It counts requests, records the maximum number in flight and every Authorization header, and can
delay each answer (`delay`) so concurrency becomes observable.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_LABEL = re.compile(r"\[label:(\w+) scaffold:(\d+)\]")


class FakeOpenAIServer:
    def __init__(self, delay: float = 0.0, model: str = "fake-model"):
        self.delay, self.model = delay, model
        self.requests: list[dict] = []
        self.auth_headers: list[str] = []
        self.per_document: Counter[str] = Counter()
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

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()
            self.max_in_flight = 0

    # -- behaviour -------------------------------------------------------------------------------------
    def answer(self, body: dict) -> tuple[int, dict]:
        """(status, JSON body) for one chat request."""
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        with self._lock:
            self.per_document[user] += 1
            seen = self.per_document[user]
        if "[500]" in user or ("[500-once]" in user and seen == 1):
            return 500, {"error": {"message": "internal error", "type": "server_error"}}
        if "[429-once]" in user and seen == 1:
            return 429, {"error": {"message": "rate limited", "type": "rate_limit_exceeded"}}
        if "[invalid]" in user or ("[invalid-once]" in user and seen == 1):
            content = "I think this document is about code."
        else:
            m = _LABEL.search(user)
            domain, scaffold = (m.group(1), int(m.group(2))) if m else ("general", 0)
            content = json.dumps({"domain": domain, "scaffold": scaffold, "reason": "planted label"})
            if "[fence]" in user:
                content = f"```json\n{content}\n```"
        return 200, {
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": 0,
            "model": body.get("model", self.model),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def _send(self, status: int, obj: dict, headers: dict | None = None) -> None:
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/v1/models"):
                    self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with server._lock:
                    server.requests.append(body)
                    server.auth_headers.append(self.headers.get("Authorization", ""))
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    time.sleep(server.delay)
                    status, obj = server.answer(body)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                self._send(status, obj, {"Retry-After": "0"} if status == 429 else None)

        return Handler
