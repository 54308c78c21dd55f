"""The OpenAI adapter: which requests are inference calls, and how each API reads into records."""

from __future__ import annotations

import base64
from typing import Any

from ...records import RequestParams, TurnRequest, TurnResponse, Usage
from .._read import as_cost, as_int, as_str, get, server_of
from ..base import Route, StreamAccumulator
from ..identity import provider_of
from . import chat, content, responses

_ROUTES = {
    "/chat/completions": Route("chat.completions", "chat"),
    "/responses": Route("responses", "chat"),
    "/embeddings": Route("embeddings", "embeddings"),
}


class OpenAIAdapter:
    provider = "openai"

    def route(self, options: Any) -> Route | None:
        if getattr(options, "method", "").lower() != "post":
            return None
        url = getattr(options, "url", None)
        return _ROUTES.get(url) if isinstance(url, str) else None

    def prepare_options(self, options: Any, suppress_native_spans: bool) -> Any:
        return options

    def request(self, route: Route, client: Any, options: Any, stream: bool) -> TurnRequest:
        body = options.json_data if isinstance(options.json_data, dict) else {}
        address, port = server_of(client)
        request = TurnRequest(
            provider=provider_of(client, address, self.provider),
            operation=route.operation,
            model=as_str(body.get("model")),
            server_address=address,
            server_port=port,
            stream=stream,
            api=route.api,
        )
        if route.api == "chat.completions":
            request.messages, request.system = chat.request_messages(body)
            request.params = chat.request_params(body)
            request.tool_names = chat.tool_names(body.get("tools"))
            request.content = content.ChatRequestContent(body.get("messages"))
        elif route.api == "responses":
            request.messages, request.system = responses.request_messages(body)
            request.params = responses.request_params(body)
            request.tool_names = responses.tool_names(body.get("tools"))
            request.content = content.ResponsesRequestContent(body.get("input"), body.get("instructions"))
            conversation = body.get("conversation")
            request.conversation_id = as_str(conversation) or as_str(get(conversation, "id"))
            request.previous_response_id = as_str(body.get("previous_response_id"))
        else:
            fmt = as_str(body.get("encoding_format"))
            request.params = RequestParams(encoding_formats=(fmt,) if fmt else None)
        return request

    def response(self, route: Route, parsed: Any) -> TurnResponse:
        if route.api == "chat.completions":
            return chat.response(parsed)
        if route.api == "responses":
            return responses.response(parsed)
        return _embeddings_response(parsed)

    def accumulator(self, route: Route) -> StreamAccumulator:
        if route.api == "responses":
            return responses.ResponsesStreamAccumulator()
        return chat.ChatStreamAccumulator()


def _embeddings_response(parsed: Any) -> TurnResponse:
    raw_usage = get(parsed, "usage")
    usage = Usage(input_tokens=as_int(get(raw_usage, "prompt_tokens"))) if raw_usage is not None else None
    return TurnResponse(
        model=as_str(get(parsed, "model")),
        usage=usage,
        reported_cost=as_cost(get(raw_usage, "cost")),
        embedding_dimensions=_dimensions(get(parsed, "data")),
    )


def _dimensions(data: Any) -> int | None:
    """`gen_ai.embeddings.dimension.count`: the length of the first vector (a base64 vector: 4 bytes a float32)."""
    if not isinstance(data, (list, tuple)) or not data:
        return None
    vector = get(data[0], "embedding")
    if isinstance(vector, (list, tuple)):
        return len(vector) or None
    if isinstance(vector, str):
        try:
            return len(base64.b64decode(vector, validate=True)) // 4 or None
        except (ValueError, TypeError):
            return None
    return None
