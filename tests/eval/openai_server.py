"""A small OpenAI-compatible HTTP server for tests: /v1/chat/completions and /v1/completions.

Replies come from a function of the request (prompt text and body); optional per-request latency
and a number of initial 503 failures exercise concurrency and retries.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from eval.llm_extract import SYSTEM

Reply = Callable[[str, dict[str, Any]], str]


class FakeOpenAIServer:
    def __init__(self, reply: Reply, latency: float = 0.0, fail_first: int = 0) -> None:
        self.reply, self.latency, self.fail_first = reply, latency, fail_first
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    fail = len(server.requests) <= server.fail_first
                if server.latency:
                    time.sleep(server.latency)
                if fail:
                    return self._send(503, {"error": {"message": "overloaded", "type": "server_error"}})
                if self.path.endswith("/chat/completions"):
                    prompt = body["messages"][-1]["content"]
                    text = server.reply(prompt, body)
                    choice = {"index": 0, "message": {"role": "assistant", "content": text},
                              "finish_reason": "stop"}
                    obj = "chat.completion"
                elif self.path.endswith("/completions"):
                    text = server.reply(body["prompt"], body)
                    choice, obj = {"index": 0, "text": text, "finish_reason": "stop"}, "text_completion"
                else:
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                n = len(text.split())
                self._send(200, {"id": "cmpl-test", "object": obj, "created": int(time.time()),
                                 "model": body["model"], "choices": [choice],
                                 "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}})

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def answer_key(replies: dict[str, str], default: str = "I do not know.") -> Reply:
    """Reply by prompt; an extraction request (the LLM-extractor system prompt) is answered with the
    reply of the question it quotes, so an LLM extractor 'reads' the intended answer."""

    def reply(prompt: str, body: dict[str, Any]) -> str:
        messages = body.get("messages") or []
        if messages and messages[0]["role"] == "system" and messages[0]["content"] == SYSTEM:
            question = prompt.split("Question:\n", 1)[1].split("\n\nResponse:\n", 1)[0]
            return replies.get(question, default)
        return replies.get(prompt, default)

    return reply
