"""Gemini API payloads shaped like the documented REST responses (`GenerateContentResponse`, camelCase, with
`usageMetadata.promptTokenCount`/`candidatesTokenCount`/`thoughtsTokenCount`/`cachedContentTokenCount`/
`toolUsePromptTokenCount`; `streamGenerateContent?alt=sse` sends one whole `GenerateContentResponse` per SSE event,
usage cumulative), served to the real google-genai client through `httpx.MockTransport` (google-genai takes an httpx
client in `HttpOptions(httpx_client=..., httpx_async_client=...)`). The mock transport is the stand-in for the Gemini
API: no Gemini server can run here, and the thinking and cache counts are what a local server never produces.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from google import genai
from google.genai import types

GEMINI_MODEL = "gemini-2.5-flash"
GEMINI_KEY = "AIzaSyTESTKEYabcdefghijklmnop0123456789"


def usage_metadata(
    prompt: int = 1200,
    candidates: int = 80,
    thoughts: int = 900,
    cached: int | None = 1024,
    tool_use: int | None = None,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "thoughtsTokenCount": thoughts,
        "totalTokenCount": prompt + candidates + thoughts + (tool_use or 0),
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
    }
    if cached is not None:
        usage["cachedContentTokenCount"] = cached
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": cached}]
    if tool_use is not None:
        usage["toolUsePromptTokenCount"] = tool_use
    return usage


def generate_response(
    parts: list[dict[str, Any]] | None = None,
    *,
    finish: str = "STOP",
    usage: dict[str, Any] | None = None,
    model: str = GEMINI_MODEL,
) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": parts or [{"text": "The capital of France is Paris."}]},
                "finishReason": finish,
                "index": 0,
            }
        ],
        "usageMetadata": usage or usage_metadata(),
        "modelVersion": model,
        "responseId": "m8iHaPqCJrK5nvgPk8eLuQ8",
    }


def function_call_response(name: str = "get_weather", args: dict[str, Any] | None = None) -> dict[str, Any]:
    return generate_response(
        [{"functionCall": {"name": name, "args": args or {"city": "Paris"}}}],
        usage=usage_metadata(prompt=60, candidates=12, thoughts=40, cached=None),
    )


def stream_events(pieces: Iterable[str] = ("The capital", " of France", " is Paris.")) -> list[dict[str, Any]]:
    pieces = list(pieces)
    events = []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        event: dict[str, Any] = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}],
            "usageMetadata": usage_metadata(candidates=index + 1, thoughts=900, cached=None)
            if last
            else {"promptTokenCount": 1200, "totalTokenCount": 1200 + index},
            "modelVersion": GEMINI_MODEL,
            "responseId": "m8iHaPqCJrK5nvgPk8eLuQ8",
        }
        if last:
            event["candidates"][0]["finishReason"] = "STOP"
        events.append(event)
    return events


def sse(events: Iterable[dict[str, Any]]) -> bytes:
    return "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events).encode()


class Server:
    """Answers `:generateContent` from `replies` in turn (the last repeats) and `:streamGenerateContent` with
    `stream`; records the request bodies."""

    def __init__(
        self, replies: list[Any] | None = None, stream: bytes | None = None, status: int = 200, error: Any = None
    ) -> None:
        self.replies = replies or [generate_response()]
        self.stream = stream if stream is not None else sse(stream_events())
        self.status = status
        self.error = error
        self.requests: list[dict[str, Any]] = []
        self.urls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content or b"{}"))
        self.urls.append(str(request.url))
        if self.status != 200:
            return httpx.Response(self.status, json=self.error)
        if ":streamGenerateContent" in request.url.path:
            return httpx.Response(200, content=self.stream, headers={"content-type": "text/event-stream"})
        reply = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        return httpx.Response(200, json=reply)


def client(server: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> genai.Client:
    transport = httpx.MockTransport(server)
    options = types.HttpOptions(
        httpx_client=httpx.Client(transport=transport), httpx_async_client=httpx.AsyncClient(transport=transport)
    )
    if kwargs.get("vertexai"):
        return genai.Client(http_options=options, **kwargs)
    return genai.Client(api_key=GEMINI_KEY, http_options=options, **kwargs)


def error_body(code: int = 429) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": "Resource has been exhausted (e.g. check quota).",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
