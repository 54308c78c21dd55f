"""A loopback fake of the Bedrock Runtime HTTP API, for the real boto3 client (`endpoint_url=` this server).

It stands in for AWS (which cannot be reached here) and exercises all of botocore's own stack: request signing and
serialisation, the HTTP client, JSON parsing and the binary `application/vnd.amazon.eventstream` framing of
ConverseStream and InvokeModelWithResponseStream (encoded here: prelude, CRC32s, string headers, payload). Payloads
are shaped like the documented Converse / ConverseStream responses and Anthropic Messages bodies on Bedrock.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

MODEL = "anthropic.claude-3-5-sonnet-20240620-v1:0"


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack("B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


def event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    headers = (
        _header(":event-type", event_type)
        + _header(":content-type", "application/json")
        + _header(":message-type", "event")
    )
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


def converse_usage(inp: int = 320, out: int = 96, read: int = 1536, write: int = 128) -> dict[str, Any]:
    return {
        "inputTokens": inp,
        "outputTokens": out,
        "totalTokens": inp + out + read + write,
        "cacheReadInputTokens": read,
        "cacheWriteInputTokens": write,
    }


def converse_response(text: str = "The capital of France is Paris.", stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": converse_usage(),
        "metrics": {"latencyMs": 812},
    }


def converse_stream_events(pieces: Iterable[str] = ("The capital", " is", " Paris.")) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = [("messageStart", {"role": "assistant"})]
    events += [("contentBlockDelta", {"delta": {"text": p}, "contentBlockIndex": 0}) for p in pieces]
    events += [
        ("contentBlockStop", {"contentBlockIndex": 0}),
        (
            "contentBlockStart",
            {"start": {"toolUse": {"toolUseId": "tooluse_1", "name": "lookup"}}, "contentBlockIndex": 1},
        ),
        ("contentBlockDelta", {"delta": {"toolUse": {"input": '{"city":'}}, "contentBlockIndex": 1}),
        ("contentBlockDelta", {"delta": {"toolUse": {"input": ' "Paris"}'}}, "contentBlockIndex": 1}),
        ("contentBlockStop", {"contentBlockIndex": 1}),
        ("messageStop", {"stopReason": "tool_use"}),
        ("metadata", {"usage": converse_usage(), "metrics": {"latencyMs": 640}}),
    ]
    return events


def anthropic_body() -> dict[str, Any]:
    return {
        "id": "msg_bdrk_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-3-5-sonnet-20240620",
        "content": [{"type": "text", "text": "The capital of France is Paris."}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 11, "cache_read_input_tokens": 100},
    }


def anthropic_stream_chunks(pieces: Iterable[str] = ("Paris", " it", " is.")) -> list[tuple[str, Any]]:
    native = [
        {
            "type": "message_start",
            "message": {**anthropic_body(), "content": [], "usage": {"input_tokens": 25, "output_tokens": 1}},
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        *({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}} for p in pieces),
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 11}},
        {"type": "message_stop"},
    ]
    return [("chunk", {"bytes": base64.b64encode(json.dumps(e).encode()).decode()}) for e in native]


class Fake:
    """Answers by path: /model/{id}/converse, /converse-stream, /invoke, /invoke-with-response-stream."""

    def __init__(self) -> None:
        self.converse: Any = converse_response()
        self.stream: list[tuple[str, Any]] = converse_stream_events()
        self.invoke: Any = anthropic_body()
        self.invoke_stream: list[tuple[str, Any]] = anthropic_stream_chunks()
        self.status = 200
        self.error: dict[str, Any] = {}
        self.requests: list[tuple[str, Any]] = []
        self.url = ""

    def frames(self, events: list[tuple[str, Any]]) -> Iterator[bytes]:
        for event_type, payload in events:
            yield event_message(event_type, payload)


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            path = self.path
            fake.requests.append((path, body))
            if fake.status != 200:
                self._send(fake.status, json.dumps(fake.error).encode(), "application/json", fake.error.get("__type"))
            elif path.endswith("/converse"):
                self._send(200, json.dumps(fake.converse).encode(), "application/json")
            elif path.endswith("/invoke"):
                self._send(200, json.dumps(fake.invoke).encode(), "application/json")
            else:
                events = fake.stream if path.endswith("/converse-stream") else fake.invoke_stream
                self._send(200, b"".join(fake.frames(events)), "application/vnd.amazon.eventstream")

        def _send(self, status: int, data: bytes, content_type: str, error_type: str | None = None) -> None:
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.send_header("x-amzn-requestid", "4b2a1c3e-5f6d-4e7a-9b8c-0d1e2f3a4b5c")
            if error_type:
                self.send_header("x-amzn-errortype", error_type)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serve() -> Iterator[Fake]:
    fake = Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def client(fake: Fake) -> Any:
    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=fake.url,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    )
