"""A loopback HTTP server for SDKs that cannot take a mock transport (LiteLLM's own HTTP code): a handler maps
(method, path, JSON body) to (status, content type, bytes). It stands in for the provider's API, unreachable here."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = tuple[int, str, bytes]
Handler = Callable[[str, str, Any], Reply]


class Loopback:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[tuple[str, Any]] = []
        self.url = ""


def _http_handler(server: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            server.requests.append((self.path, body))
            status, content_type, data = server.handler("POST", self.path, body)
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve(handler: Handler) -> Iterator[Loopback]:
    state = Loopback(handler)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _http_handler(state))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def json_reply(body: Any, status: int = 200) -> Reply:
    return status, "application/json", json.dumps(body).encode()


def sse_reply(data: bytes) -> Reply:
    return 200, "text/event-stream", data
