"""Anthropic Messages (and beta.messages): request, Message and stream events into neutral records."""

from __future__ import annotations

from typing import Any

from ...records import Message, RequestParams, ToolCall, ToolResult, TurnResponse, Usage
from ...values import canonical_json
from .._messages import text_of
from .._read import as_float, as_index, as_int, as_list, as_str, get
from .content import MessagesResponseContent, StreamedBlocksContent


def request_messages(body: dict[str, Any]) -> tuple[tuple[Message, ...], str | None]:
    system_raw = body.get("system")
    system = text_of(system_raw) if system_raw is not None else None
    messages: list[Message] = []
    for raw in as_list(body.get("messages")):
        role = as_str(get(raw, "role")) or "user"
        content = get(raw, "content")
        if isinstance(content, str):
            messages.append(Message(role, text=content))
            continue
        texts: list[str] = []
        calls: list[ToolCall] = []
        results: list[ToolResult] = []
        for block in as_list(content):
            kind = get(block, "type")
            if kind == "text":
                texts.append(as_str(get(block, "text")) or "")
            elif kind == "tool_use":
                calls.append(
                    ToolCall(
                        id=as_str(get(block, "id")),
                        name=as_str(get(block, "name")) or "",
                        arguments=_arguments(get(block, "input")),
                    )
                )
            elif kind == "tool_result":
                results.append(
                    ToolResult(
                        as_str(get(block, "tool_use_id")),
                        text_of(get(block, "content")),
                        is_error=bool(get(block, "is_error")),
                    )
                )
        messages.append(Message(role, text="".join(texts), tool_calls=tuple(calls), tool_results=tuple(results)))
    return tuple(messages), system


def request_params(body: dict[str, Any]) -> RequestParams:
    thinking = body.get("thinking")
    budget = as_int(get(thinking, "budget_tokens")) if get(thinking, "type") == "enabled" else None
    stops = body.get("stop_sequences")
    return RequestParams(
        max_tokens=as_int(body.get("max_tokens")),
        temperature=as_float(body.get("temperature")),
        top_p=as_float(body.get("top_p")),
        top_k=as_int(body.get("top_k")),
        stop_sequences=tuple(stops) if isinstance(stops, list) else None,
        thinking_budget_tokens=budget,
        reasoning_effort=as_str(get(body.get("output_config"), "effort")),
    )


def tool_names(tools: Any) -> tuple[str, ...] | None:
    if not tools:
        return None
    return tuple(name for tool in as_list(tools) if isinstance(name := get(tool, "name"), str))


def usage(raw: Any) -> Usage | None:
    """By the conventions: input = uncached input + cache read + cache creation."""
    if raw is None:
        return None
    uncached = as_int(get(raw, "input_tokens"))
    cache_read = as_int(get(raw, "cache_read_input_tokens"))
    cache_write = as_int(get(raw, "cache_creation_input_tokens"))
    total_input = None
    if uncached is not None or cache_read is not None or cache_write is not None:
        total_input = (uncached or 0) + (cache_read or 0) + (cache_write or 0)
    return Usage(
        input_tokens=total_input,
        output_tokens=as_int(get(raw, "output_tokens")),
        cache_read_tokens=cache_read,
        cache_write_tokens=cache_write,
        reasoning_tokens=as_int(get(get(raw, "output_tokens_details"), "thinking_tokens")),
    )


def response(parsed: Any) -> TurnResponse:
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking = False
    for block in as_list(get(parsed, "content")):
        kind = get(block, "type")
        if kind == "text":
            texts.append(as_str(get(block, "text")) or "")
        elif kind == "tool_use":
            calls.append(
                ToolCall(
                    id=as_str(get(block, "id")),
                    name=as_str(get(block, "name")) or "",
                    arguments=_arguments(get(block, "input")),
                )
            )
        elif kind in ("thinking", "redacted_thinking"):
            thinking = True
    stop = as_str(get(parsed, "stop_reason"))
    return TurnResponse(
        id=as_str(get(parsed, "id")),
        model=as_str(get(parsed, "model")),
        finish_reasons=(stop,) if stop else (),
        usage=usage(get(parsed, "usage")),
        text="".join(texts),
        tool_calls=tuple(calls),
        refusal="refusal" if stop == "refusal" else None,
        has_thinking=thinking,
        content=MessagesResponseContent(get(parsed, "content"), stop),
    )


class MessagesStreamAccumulator:
    """Reads the raw SSE events (the same events the SDK's MessageStream helpers consume)."""

    __slots__ = ("_id", "_model", "_usage", "_stop", "_blocks")

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._usage: dict[str, Any] = {}
        self._stop: str | None = None
        self._blocks: dict[int, list[Any]] = {}  # index -> [type, id, name, pieces]

    def add(self, event: Any) -> None:
        kind = get(event, "type")
        # each field on its own: a malformed one is skipped, the rest of the event still counts
        if kind == "content_block_delta":
            block = self._blocks.get(as_index(get(event, "index")))
            if block is not None:
                delta = get(event, "delta")
                piece = (
                    as_str(get(delta, "text")) or as_str(get(delta, "partial_json")) or as_str(get(delta, "thinking"))
                )
                if piece:
                    block[3].append(piece)
        elif kind == "content_block_start":
            content = get(event, "content_block")
            self._blocks[as_index(get(event, "index"))] = [
                get(content, "type"),
                as_str(get(content, "id")),
                as_str(get(content, "name")),
                [],
            ]
        elif kind == "message_delta":
            self._stop = as_str(get(get(event, "delta"), "stop_reason")) or self._stop
            self._merge_usage(get(event, "usage"))
        elif kind == "message_start":
            message = get(event, "message")
            self._id = as_str(get(message, "id")) or self._id
            self._model = as_str(get(message, "model")) or self._model
            self._merge_usage(get(message, "usage"))

    def _merge_usage(self, raw: Any) -> None:
        if raw is None:
            return
        for key in (
            "input_tokens",
            "output_tokens",
            "cache_read_input_tokens",
            "cache_creation_input_tokens",
            "output_tokens_details",
        ):
            value = get(raw, key)
            if value is not None:
                self._usage[key] = value

    def result(self) -> TurnResponse:
        texts: list[str] = []
        calls: list[ToolCall] = []
        thinking = False
        for kind, block_id, name, pieces in self._blocks.values():
            if kind == "text":
                texts.append("".join(pieces))
            elif kind == "tool_use":
                calls.append(
                    ToolCall(
                        id=as_str(block_id), name=as_str(name) or "", arguments=_arguments("".join(pieces) or "{}")
                    )
                )
            elif kind in ("thinking", "redacted_thinking"):
                thinking = True
        text = "".join(texts)
        return TurnResponse(
            id=as_str(self._id),
            model=as_str(self._model),
            finish_reasons=(self._stop,) if self._stop else (),
            usage=usage(self._usage) if self._usage else None,
            text=text,
            tool_calls=tuple(calls),
            refusal="refusal" if self._stop == "refusal" else None,
            has_thinking=thinking,
            content=StreamedBlocksContent(list(self._blocks.values()), self._stop),
        )


def _arguments(value: Any) -> str:
    """A tool call's input as canonical JSON text; text that does not parse is kept as it came."""
    return canonical_json(value) or (value if isinstance(value, str) else str(value))
