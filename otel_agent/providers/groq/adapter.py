"""The Groq adapter: groq's SDK is generated like openai's, so the same `request()` seam and the same Chat Completions
readers serve it; only the routes (`/openai/v1/...`), the provider name and the stream's `x_groq.usage` differ."""

from __future__ import annotations

from typing import Any

from ...records import TurnResponse
from .._read import get
from ..base import Route, StreamAccumulator
from ..openai import chat
from ..openai.adapter import OpenAIAdapter

_ROUTES = {
    "/openai/v1/chat/completions": Route("chat.completions", "chat"),
    "/openai/v1/embeddings": Route("embeddings", "embeddings"),
}


class GroqAdapter(OpenAIAdapter):
    provider = "groq"

    def route(self, options: Any) -> Route | None:
        if getattr(options, "method", "").lower() != "post":
            return None
        url = getattr(options, "url", None)
        return _ROUTES.get(url) if isinstance(url, str) else None

    def accumulator(self, route: Route) -> StreamAccumulator:
        return GroqStreamAccumulator()


class GroqStreamAccumulator:
    """Groq sends a streamed call's usage in the last chunk's `x_groq.usage` (and in `usage` when asked)."""

    __slots__ = ("_inner", "_usage")

    def __init__(self) -> None:
        self._inner = chat.ChatStreamAccumulator()
        self._usage: Any = None

    def add(self, chunk: Any) -> None:
        self._inner.add(chunk)
        extra = get(get(chunk, "x_groq"), "usage")
        if extra is not None:
            self._usage = extra

    def result(self) -> TurnResponse:
        result = self._inner.result()
        if result.usage is None and self._usage is not None:
            result.usage = chat.usage(self._usage)
        return result
