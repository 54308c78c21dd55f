"""The Bedrock adapter, at botocore's one seam for every operation: `BaseClient._make_api_call(name, params)`.

Only the `bedrock-runtime` service's inference operations are recorded. Converse reads Bedrock's own shapes;
InvokeModel reads the model's native body where its shape is known (Anthropic Messages bodies, through the Anthropic
adapter's readers): the body is a one-shot `StreamingBody`, so it is read once and handed back as a fresh one.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ...records import (
    ChatMessage,
    Message,
    Part,
    RequestParams,
    TextPart,
    ToolCall,
    ToolCallPart,
    ToolResult,
    TurnRequest,
    TurnResponse,
    Usage,
)
from ...values import canonical_json
from .._content import parsed_arguments
from .._lazy import LazyContent
from .._read import as_float, as_int, as_str, get
from ..anthropic import messages as anthropic
from ..anthropic.content import MessagesRequestContent
from ..base import Started
from . import content as parts_content

_CONVERSE = {"Converse": False, "ConverseStream": True}
_INVOKE = {"InvokeModel": False, "InvokeModelWithResponseStream": True}


class BedrockAdapter:
    provider = "aws.bedrock"

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Started | None:
        operation = args[0] if args else kwargs.get("operation_name")
        params = args[1] if len(args) > 1 else kwargs.get("api_params")
        if operation not in _CONVERSE and operation not in _INVOKE:
            return None
        meta = getattr(instance, "meta", None)
        if getattr(getattr(meta, "service_model", None), "service_name", None) != "bedrock-runtime":
            return None
        params = params if isinstance(params, dict) else {}
        address, port = _server(getattr(meta, "endpoint_url", None))
        request = TurnRequest(
            provider=self.provider,
            operation="chat",
            model=as_str(params.get("modelId")),
            server_address=address,
            server_port=port,
            stream=False,
        )
        if operation in _CONVERSE:
            request.stream = _CONVERSE[operation]
            request.api = "converse"
            request.messages, request.system = request_messages(params)
            request.params = request_params(params)
            request.tool_names = tool_names(params.get("toolConfig"))
            request.content = LazyContent(
                lambda: parts_content.request_messages(params.get("messages")),
                lambda: parts_content.system_parts(params.get("system")),
            )
            return Started(request, stream=request.stream, state="converse")
        request.stream = _INVOKE[operation]
        request.api = "invoke_model"
        body = _json_body(params.get("body"))
        if _is_anthropic(body):
            request.messages, request.system = anthropic.request_messages(body)
            request.params = anthropic.request_params(body)
            request.tool_names = anthropic.tool_names(body.get("tools"))
            request.content = MessagesRequestContent(body.get("system"), body.get("messages"))
            state = "anthropic"
        else:
            state = "opaque"  # a body shape we do not know: the call is recorded, its content is not read
        return Started(request, stream=request.stream, state=state)

    def response(self, started: Started, result: Any) -> TurnResponse:
        if started.state == "converse":
            return converse_response(result)
        raw = _reread_body(result)
        if started.state == "anthropic" and raw is not None:
            return anthropic.response(json.loads(raw))
        return TurnResponse()

    def accumulator(self, started: Started) -> Any:
        if started.state == "converse":
            return ConverseStreamAccumulator()
        return _InvokeStreamAccumulator(anthropic.MessagesStreamAccumulator() if started.state == "anthropic" else None)

    def stream_of(self, started: Started, result: Any) -> tuple[Any, Callable[[Any], Any]]:
        key = "stream" if started.state == "converse" else "body"

        def put_back(proxy: Any) -> Any:
            result[key] = proxy
            return result

        return result[key], put_back


def _server(url: Any) -> tuple[str | None, int | None]:
    if not isinstance(url, str):
        return None, None
    try:
        parts = urlsplit(url)
        return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None, None


def _json_body(body: Any) -> dict[str, Any]:
    if isinstance(body, (bytes, bytearray, str)):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _is_anthropic(body: dict[str, Any]) -> bool:
    return "anthropic_version" in body or ("messages" in body and "max_tokens" in body)


def _reread_body(result: Any) -> bytes | None:
    """Read the one-shot body and put an equivalent fresh one in its place (what the application then reads)."""
    body = result.get("body") if isinstance(result, dict) else None
    read = getattr(body, "read", None)
    if read is None:
        return None
    data = read()
    from botocore.response import StreamingBody

    result["body"] = StreamingBody(io.BytesIO(data), len(data))
    return data if isinstance(data, bytes) else None


# -- Converse --------------------------------------------------------------------------------------------------------
def _text(content: Any) -> str:
    return "".join(t for block in content or () if isinstance(t := get(block, "text"), str))


def _tool_use(raw: Any) -> ToolCall:
    return ToolCall(
        id=as_str(get(raw, "toolUseId")),
        name=as_str(get(raw, "name")) or "",
        arguments=canonical_json(get(raw, "input")) or "{}",
    )


def request_messages(params: dict[str, Any]) -> tuple[tuple[Message, ...], str | None]:
    system = params.get("system")
    messages = []
    for raw in params.get("messages") or ():
        content = get(raw, "content") or ()
        calls = tuple(_tool_use(u) for block in content if (u := get(block, "toolUse")))
        results = tuple(
            ToolResult(as_str(get(r, "toolUseId")), _text(get(r, "content")), is_error=get(r, "status") == "error")
            for block in content
            if (r := get(block, "toolResult"))
        )
        messages.append(Message(as_str(get(raw, "role")) or "user", _text(content), calls, results))
    return tuple(messages), (_text(system) if system else None)


def request_params(params: dict[str, Any]) -> RequestParams:
    config = params.get("inferenceConfig") or {}
    stops = get(config, "stopSequences")
    thinking = get(params.get("additionalModelRequestFields"), "thinking")
    budget = as_int(get(thinking, "budget_tokens")) if get(thinking, "type") == "enabled" else None
    return RequestParams(
        max_tokens=as_int(get(config, "maxTokens")),
        temperature=as_float(get(config, "temperature")),
        top_p=as_float(get(config, "topP")),
        stop_sequences=tuple(stops) if isinstance(stops, list) else None,
        thinking_budget_tokens=budget,
    )


def tool_names(config: Any) -> tuple[str, ...] | None:
    tools = get(config, "tools")
    if not tools:
        return None
    return tuple(name for tool in tools if isinstance(name := get(get(tool, "toolSpec"), "name"), str))


def usage(raw: Any) -> Usage | None:
    """Bedrock's `inputTokens` leaves out cache reads and writes; by the conventions input includes them."""
    if raw is None:
        return None
    uncached = as_int(get(raw, "inputTokens"))
    cache_read = as_int(get(raw, "cacheReadInputTokens"))
    cache_write = as_int(get(raw, "cacheWriteInputTokens"))
    total = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total = (uncached or 0) + (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=total,
        output_tokens=as_int(get(raw, "outputTokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
    )


def converse_response(parsed: Any) -> TurnResponse:
    message = get(get(parsed, "output"), "message")
    content = get(message, "content") or ()
    stop = as_str(get(parsed, "stopReason"))
    return TurnResponse(
        id=as_str(get(get(parsed, "ResponseMetadata"), "RequestId")),
        finish_reasons=(stop,) if stop else (),
        usage=usage(get(parsed, "usage")),
        text=_text(content),
        tool_calls=tuple(_tool_use(u) for block in content if (u := get(block, "toolUse"))),
        refusal="guardrail_intervened" if stop in ("guardrail_intervened", "content_filtered") else None,
        has_thinking=any(get(block, "reasoningContent") for block in content),
        content=LazyContent(lambda: parts_content.output_message(message, stop)),
    )


class ConverseStreamAccumulator:
    """ConverseStream events: messageStart, contentBlockStart/Delta/Stop, messageStop, metadata (usage)."""

    __slots__ = ("_text", "_tools", "_stop", "_usage", "_thinking")

    def __init__(self) -> None:
        self._text: list[str] = []
        self._tools: dict[int, list[Any]] = {}  # index -> [id, name, input pieces]
        self._stop: str | None = None
        self._usage: Any = None
        self._thinking = False

    def add(self, event: Any) -> None:
        if (delta := get(get(event, "contentBlockDelta"), "delta")) is not None:
            if isinstance(text := get(delta, "text"), str):
                self._text.append(text)
            elif (tool := get(delta, "toolUse")) is not None:
                entry = self._tools.setdefault(
                    as_int(get(event["contentBlockDelta"], "contentBlockIndex")) or 0, [None, "", []]
                )
                entry[2].append(as_str(get(tool, "input")) or "")
            elif get(delta, "reasoningContent") is not None:
                self._thinking = True
        elif (start := get(event, "contentBlockStart")) is not None:
            tool = get(get(start, "start"), "toolUse")
            if tool is not None:
                entry = self._tools.setdefault(as_int(get(start, "contentBlockIndex")) or 0, [None, "", []])
                entry[0], entry[1] = as_str(get(tool, "toolUseId")), as_str(get(tool, "name")) or ""
        elif (stop := get(event, "messageStop")) is not None:
            self._stop = as_str(get(stop, "stopReason"))
        elif (metadata := get(event, "metadata")) is not None:
            self._usage = get(metadata, "usage")

    def _message(self, text: str, calls: tuple[ToolCall, ...]) -> ChatMessage:
        parts: list[Part] = [TextPart(text)] if text else []
        parts += [ToolCallPart(c.name, c.id, parsed_arguments(c.arguments)) for c in calls]
        return ChatMessage("assistant", tuple(parts), finish_reason=parts_content.finish_reason(self._stop))

    def result(self) -> TurnResponse:
        text = "".join(self._text)
        calls = tuple(ToolCall(i, n, canonical_json("".join(p)) or "{}") for i, n, p in self._tools.values())
        return TurnResponse(
            finish_reasons=(self._stop,) if self._stop else (),
            usage=usage(self._usage),
            text=text,
            tool_calls=calls,
            has_thinking=self._thinking,
            content=LazyContent(lambda: (self._message(text, calls),)),
        )


class _InvokeStreamAccumulator:
    """InvokeModelWithResponseStream: each `chunk.bytes` is one native event (Anthropic's SSE events as JSON)."""

    __slots__ = ("_inner",)

    def __init__(self, inner: anthropic.MessagesStreamAccumulator | None) -> None:
        self._inner = inner

    def add(self, event: Any) -> None:
        data = get(get(event, "chunk"), "bytes")
        if self._inner is not None and isinstance(data, (bytes, str)):
            self._inner.add(json.loads(data))

    def result(self) -> TurnResponse:
        return self._inner.result() if self._inner is not None else TurnResponse()
