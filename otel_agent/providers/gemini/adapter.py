"""The google-genai adapter, at the SDK's one HTTP seam: `BaseApiClient.request` / `request_streamed` (and async).

Every model call of the SDK goes through that seam with the REST body (camelCase) and the REST response text, so
`generate_content`, `generate_content_stream`, the chat helper and each model call of automatic function calling
(which loops inside one `generate_content`) are each one turn, read from the same documented REST shapes.
"""

from __future__ import annotations

import json
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
from ..base import Started, whole
from . import content as parts_content

_GENERATE = ":generateContent"
_STREAM = ":streamGenerateContent"
# finishReason values that mean the model declined (the conventions' refusal)
_BLOCKED = frozenset({"safety", "prohibited_content", "blocklist", "spii", "recitation", "image_safety"})


class GeminiAdapter:
    provider = "gcp.gemini"

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Started | None:
        method = args[0] if args else kwargs.get("http_method")
        path = args[1] if len(args) > 1 else kwargs.get("path")
        body = args[2] if len(args) > 2 else kwargs.get("request_dict")
        if not isinstance(path, str) or str(method).lower() != "post":
            return None
        action = path.split("?", 1)[0]
        if action.endswith(_GENERATE):
            stream = False
        elif action.endswith(_STREAM):
            stream = True
        else:
            return None
        body = body if isinstance(body, dict) else {}
        address, port = _server(instance)
        messages, system = request_messages(body)
        return Started(
            TurnRequest(
                provider="gcp.vertex_ai" if getattr(instance, "vertexai", False) else self.provider,
                operation="chat",
                model=_model_of(action),
                server_address=address,
                server_port=port,
                stream=stream,
                params=request_params(body),
                system=system,
                messages=messages,
                tool_names=tool_names(body.get("tools")),
                api="generate_content",
                content=LazyContent(
                    lambda: parts_content.request_messages(body.get("contents")),
                    lambda: parts_content.system_parts(body.get("systemInstruction") or body.get("system_instruction")),
                ),
            ),
            stream=stream,
        )

    def response(self, started: Started, result: Any) -> TurnResponse:
        body = get(result, "body")
        return response(json.loads(body) if isinstance(body, str) and body else {})

    def accumulator(self, started: Started) -> GeminiStreamAccumulator:
        return GeminiStreamAccumulator()

    def stream_of(self, started: Started, result: Any) -> Any:
        return whole(result)


def _model_of(action: str) -> str | None:
    """`models/gemini-2.5-flash:generateContent`, `projects/p/locations/l/publishers/google/models/x:...`."""
    name = action.rsplit(":", 1)[0]
    model = name.rsplit("/models/", 1)[-1] if "/models/" in name else name.removeprefix("models/")
    return model or None


def _server(client: Any) -> tuple[str | None, int | None]:
    options = getattr(client, "_http_options", None)
    url = as_str(get(options, "base_url"))
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None, None
    return parts.hostname, port


def _text(parts: Any) -> str:
    return "".join(t for p in parts or () if isinstance(t := get(p, "text"), str) and not get(p, "thought"))


def _call(raw: Any) -> ToolCall:
    return ToolCall(
        id=as_str(get(raw, "id")),
        name=as_str(get(raw, "name")) or "",
        arguments=canonical_json(get(raw, "args")) or "{}",
    )


def request_messages(body: dict[str, Any]) -> tuple[tuple[Message, ...], str | None]:
    system_raw = body.get("systemInstruction") or body.get("system_instruction")
    system = _text(get(system_raw, "parts")) if system_raw is not None else None
    messages: list[Message] = []
    for content in body.get("contents") or ():
        parts = get(content, "parts") or ()
        role = as_str(get(content, "role")) or "user"
        calls = tuple(_call(c) for p in parts if (c := get(p, "functionCall") or get(p, "function_call")))
        results = tuple(
            ToolResult(as_str(get(r, "id")) or as_str(get(r, "name")), canonical_json(get(r, "response")) or "")
            for p in parts
            if (r := get(p, "functionResponse") or get(p, "function_response"))
        )
        messages.append(
            Message("assistant" if role == "model" else role, text=_text(parts), tool_calls=calls, tool_results=results)
        )
    return tuple(messages), system


def request_params(body: dict[str, Any]) -> RequestParams:
    config = body.get("generationConfig") or body.get("generation_config") or {}
    thinking = get(config, "thinkingConfig") or get(config, "thinking_config")
    level = get(thinking, "thinkingLevel") or get(thinking, "thinking_level")
    stops = get(config, "stopSequences")
    mime = as_str(get(config, "responseMimeType"))
    return RequestParams(
        max_tokens=as_int(get(config, "maxOutputTokens")),
        temperature=as_float(get(config, "temperature")),
        top_p=as_float(get(config, "topP")),
        top_k=as_int(get(config, "topK")),
        stop_sequences=tuple(stops) if isinstance(stops, list) else None,
        seed=as_int(get(config, "seed")),
        frequency_penalty=as_float(get(config, "frequencyPenalty")),
        presence_penalty=as_float(get(config, "presencePenalty")),
        choice_count=as_int(get(config, "candidateCount")),
        thinking_budget_tokens=as_int(get(thinking, "thinkingBudget") or get(thinking, "thinking_budget")),
        reasoning_effort=level.lower() if isinstance(level, str) else None,
        output_type="json" if mime == "application/json" else None,
    )


def tool_names(tools: Any) -> tuple[str, ...] | None:
    names = [
        name
        for tool in tools or ()
        for declaration in (get(tool, "functionDeclarations") or get(tool, "function_declarations") or ())
        if isinstance(name := get(declaration, "name"), str)
    ]
    return tuple(names) if tools else None


def usage(raw: Any) -> Usage | None:
    """By the conventions: input = prompt (cached included) + tool-use prompt; output = candidates + thoughts."""
    if raw is None:
        return None
    prompt = as_int(get(raw, "promptTokenCount"))
    tool_prompt = as_int(get(raw, "toolUsePromptTokenCount"))
    candidates = as_int(get(raw, "candidatesTokenCount"))
    thoughts = as_int(get(raw, "thoughtsTokenCount"))
    input_tokens = None if prompt is None and tool_prompt is None else (prompt or 0) + (tool_prompt or 0)
    output_tokens = None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    return Usage(
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=as_int(get(raw, "cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def _finish(candidates: Any) -> tuple[str, ...]:
    return tuple(r.lower() for c in candidates or () if isinstance(r := get(c, "finishReason"), str))


def _refusal(parsed: Any, finish: tuple[str, ...]) -> str | None:
    blocked = as_str(get(get(parsed, "promptFeedback"), "blockReason"))
    if blocked:
        return blocked.lower()
    return next((r for r in finish if r in _BLOCKED), None)


def response(parsed: Any) -> TurnResponse:
    candidates = get(parsed, "candidates") or ()
    first = candidates[0] if candidates else None
    parts = get(get(first, "content"), "parts") or ()
    finish = _finish(candidates)
    result = TurnResponse(
        id=as_str(get(parsed, "responseId")),
        model=as_str(get(parsed, "modelVersion")),
        finish_reasons=finish,
        usage=usage(get(parsed, "usageMetadata")),
        text=_text(parts),
        tool_calls=tuple(_call(c) for p in parts if (c := get(p, "functionCall"))),
        refusal=_refusal(parsed, finish),
        content=LazyContent(lambda: parts_content.candidate_messages(candidates)),
    )
    result.has_thinking = any(get(p, "thought") for p in parts) or bool(result.usage and result.usage.reasoning_tokens)
    return result


class GeminiStreamAccumulator:
    """Each streamed chunk is a whole `GenerateContentResponse` holding the new parts; usage is cumulative."""

    __slots__ = ("_id", "_model", "_text", "_calls", "_finish", "_usage", "_thought", "_blocked")

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._text: list[str] = []
        self._calls: list[ToolCall] = []
        self._finish: tuple[str, ...] = ()
        self._usage: Any = None
        self._thought = False
        self._blocked: str | None = None

    def add(self, chunk: Any) -> None:
        body = get(chunk, "body")
        parsed = json.loads(body) if isinstance(body, str) else chunk
        self._id = self._id or as_str(get(parsed, "responseId"))
        self._model = self._model or as_str(get(parsed, "modelVersion"))
        self._usage = get(parsed, "usageMetadata") or self._usage
        candidates = get(parsed, "candidates") or ()
        finish = _finish(candidates)
        if finish:
            self._finish = finish
        self._blocked = _refusal(parsed, finish) or self._blocked
        for part in get(get(candidates[0], "content"), "parts") or () if candidates else ():
            if get(part, "thought"):
                self._thought = True
            elif isinstance(text := get(part, "text"), str):
                self._text.append(text)
            if call := get(part, "functionCall"):
                self._calls.append(_call(call))

    def _message(self, text: str) -> ChatMessage:
        parts: list[Part] = [TextPart(text)] if text else []
        parts += [ToolCallPart(c.name, c.id, parsed_arguments(c.arguments)) for c in self._calls]
        reason = self._finish[0] if self._finish else None
        return ChatMessage(
            "assistant", tuple(parts), finish_reason=parts_content.finish_reason(reason, bool(self._calls))
        )

    def result(self) -> TurnResponse:
        text = "".join(self._text)
        result = TurnResponse(
            id=self._id,
            model=self._model,
            finish_reasons=self._finish,
            usage=usage(self._usage),
            text=text,
            tool_calls=tuple(self._calls),
            refusal=self._blocked,
            content=LazyContent(lambda: (self._message(text),)),
        )
        result.has_thinking = self._thought or bool(result.usage and result.usage.reasoning_tokens)
        return result
