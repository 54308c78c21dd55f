"""OpenAI Responses API: request input items, the Response object and its stream events."""

from __future__ import annotations

from typing import Any

from ...records import Message, RequestParams, ToolCall, ToolResult, TurnResponse, Usage
from .._messages import text_of
from .._read import as_arguments, as_cost, as_float, as_int, as_list, as_str, get
from .content import ResponsesOutputContent, chat_finish


def request_messages(body: dict[str, Any]) -> tuple[tuple[Message, ...], str | None]:
    items = body.get("input")
    system = as_str(body.get("instructions"))
    if isinstance(items, str):
        return (Message("user", text=items),), system
    messages: list[Message] = []
    for item in as_list(items):
        kind = get(item, "type")
        if kind == "function_call":
            arguments = get(item, "arguments")
            messages.append(
                Message(
                    "assistant",
                    tool_calls=(
                        ToolCall(
                            id=as_str(get(item, "call_id")),
                            name=as_str(get(item, "name")) or "",
                            arguments=as_arguments(arguments),
                        ),
                    ),
                )
            )
        elif kind == "function_call_output":
            output = get(item, "output")
            messages.append(
                Message(
                    "tool",
                    tool_results=(
                        ToolResult(
                            as_str(get(item, "call_id")), output if isinstance(output, str) else text_of(output)
                        ),
                    ),
                )
            )
        else:
            role = as_str(get(item, "role")) or "user"
            text = text_of(get(item, "content"))
            if role in ("system", "developer"):
                system = f"{system}\n{text}" if system else text
            else:
                messages.append(Message(role, text=text))
    return tuple(messages), system


def request_params(body: dict[str, Any]) -> RequestParams:
    text_format = get(get(body.get("text"), "format"), "type")
    return RequestParams(
        max_tokens=as_int(body.get("max_output_tokens")),
        temperature=as_float(body.get("temperature")),
        top_p=as_float(body.get("top_p")),
        reasoning_effort=as_str(get(body.get("reasoning"), "effort")),
        output_type="json" if text_format in ("json_object", "json_schema") else None,
    )


def tool_names(tools: Any) -> tuple[str, ...] | None:
    if not tools:
        return None
    return tuple(name for tool in as_list(tools) if isinstance(name := get(tool, "name"), str))


def usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    details = get(raw, "input_tokens_details")
    return Usage(
        input_tokens=as_int(get(raw, "input_tokens")),
        output_tokens=as_int(get(raw, "output_tokens")),
        cache_read_tokens=as_int(get(details, "cached_tokens")),
        cache_write_tokens=as_int(get(details, "cache_write_tokens")),
        reasoning_tokens=as_int(get(get(raw, "output_tokens_details"), "reasoning_tokens")),
    )


def response(parsed: Any) -> TurnResponse:
    texts: list[str] = []
    calls: list[ToolCall] = []
    refusal = None
    has_reasoning = False
    for item in as_list(get(parsed, "output")):
        kind = get(item, "type")
        if kind == "message":
            for part in as_list(get(item, "content")):
                part_type = get(part, "type")
                if part_type == "output_text":
                    texts.append(as_str(get(part, "text")) or "")
                elif part_type == "refusal":
                    refusal = as_str(get(part, "refusal"))
        elif kind == "function_call":
            arguments = get(item, "arguments")
            calls.append(
                ToolCall(
                    id=as_str(get(item, "call_id")),
                    name=as_str(get(item, "name")) or "",
                    arguments=arguments if isinstance(arguments, str) else "",
                )
            )
        elif kind == "reasoning":
            has_reasoning = True
    finish_reasons = _finish_reasons(parsed, calls)
    result = TurnResponse(
        id=as_str(get(parsed, "id")),
        model=as_str(get(parsed, "model")),
        finish_reasons=finish_reasons,
        usage=usage(get(parsed, "usage")),
        text="".join(texts),
        tool_calls=tuple(calls),
        refusal=refusal,
        content=ResponsesOutputContent(
            get(parsed, "output"), chat_finish(finish_reasons[0]) if finish_reasons else None
        ),
        reported_cost=as_cost(get(get(parsed, "usage"), "cost")),
        service_tier=as_str(get(parsed, "service_tier")),
    )
    result.has_thinking = has_reasoning or bool(result.usage and result.usage.reasoning_tokens)
    return result


def _finish_reasons(parsed: Any, calls: list[ToolCall]) -> tuple[str, ...]:
    status = get(parsed, "status")
    if status == "incomplete":
        reason = as_str(get(get(parsed, "incomplete_details"), "reason"))
        return ("length" if reason == "max_output_tokens" else (reason or "incomplete"),)
    if status == "failed":
        return ("error",)
    if status == "completed":
        return ("tool_calls",) if calls else ("stop",)
    return ()


_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesStreamAccumulator:
    """The stream's final event carries the whole Response: read it instead of re-assembling deltas."""

    __slots__ = ("_final", "_started", "_text")

    def __init__(self) -> None:
        self._final: Any = None
        self._started: Any = None
        self._text: list[str] = []

    def add(self, event: Any) -> None:
        kind = get(event, "type")
        if kind == "response.output_text.delta":
            delta = get(event, "delta")
            if isinstance(delta, str):
                self._text.append(delta)
        elif kind in _FINAL_EVENTS:
            self._final = get(event, "response")
        elif kind == "response.created":
            self._started = get(event, "response")

    def result(self) -> TurnResponse:
        if self._final is not None:
            return response(self._final)
        partial = response(self._started) if self._started is not None else TurnResponse()
        partial.text = "".join(self._text)
        return partial
