"""Bedrock Converse content blocks into the conventions' message parts."""

from __future__ import annotations

from typing import Any

from ...records import ChatMessage, Part, ReasoningPart, TextPart, ToolCallPart, ToolCallResponsePart
from .._content import generic, plain
from .._read import as_str, get

_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_call"}


def finish_reason(stop: str | None) -> str:
    if stop in ("guardrail_intervened", "content_filtered"):
        return "content_filter"
    return _FINISH.get(stop or "end_turn", "stop")


def parts_of(blocks: Any) -> tuple[Part, ...]:
    parts: list[Part] = []
    for block in blocks or ():
        text = get(block, "text")
        if isinstance(text, str):
            parts.append(TextPart(text))
        elif (use := get(block, "toolUse")) is not None:
            parts.append(
                ToolCallPart(as_str(get(use, "name")) or "", as_str(get(use, "toolUseId")), plain(get(use, "input")))
            )
        elif (result := get(block, "toolResult")) is not None:
            parts.append(ToolCallResponsePart(as_str(get(result, "toolUseId")), plain(get(result, "content"))))
        elif (reasoning := get(block, "reasoningContent")) is not None:
            thought = as_str(get(get(reasoning, "reasoningText"), "text"))
            if thought:
                parts.append(ReasoningPart(thought))
        else:  # images and documents carry raw bytes: their kind is kept, never the bytes
            kind = next(iter(block), "block") if isinstance(block, dict) else "block"
            parts.append(generic(str(kind), {"format": get(get(block, kind), "format")}))
    return tuple(parts)


def request_messages(messages: Any) -> tuple[ChatMessage, ...]:
    return tuple(ChatMessage(as_str(get(m, "role")) or "user", parts_of(get(m, "content"))) for m in messages or ())


def system_parts(system: Any) -> tuple[Part, ...]:
    return parts_of(system)


def output_message(message: Any, stop: str | None) -> tuple[ChatMessage, ...]:
    if message is None:
        return ()
    return (ChatMessage("assistant", parts_of(get(message, "content")), finish_reason=finish_reason(stop)),)
