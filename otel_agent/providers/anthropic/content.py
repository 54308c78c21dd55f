"""Anthropic Messages content blocks as the conventions' typed parts (`records.ContentSource`).

Thinking blocks are reasoning parts, without their signatures; redacted thinking carries no readable content and is
a generic part with no fields."""

from __future__ import annotations

from typing import Any

from ...records import (
    BlobPart,
    ChatMessage,
    FilePart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    UriPart,
)
from .._content import generic, modality_of, parsed_arguments, plain, role_of, text_parts
from .._read import as_str, get

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_call",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: str | None) -> str | None:
    return _FINISH.get(stop_reason, stop_reason) if stop_reason else None


def _source_part(block: Any, default_modality: str) -> Part:
    source = get(block, "source")
    kind = as_str(get(source, "type"))
    mime = as_str(get(source, "media_type"))
    modality = modality_of(mime, default_modality)
    if kind == "base64":
        return BlobPart(modality, as_str(get(source, "data")) or "", mime)
    if kind == "url":
        return UriPart(modality, as_str(get(source, "url")) or "", mime)
    if kind == "file":
        return FilePart(modality, as_str(get(source, "file_id")) or "", mime)
    if kind == "text":
        return TextPart(as_str(get(source, "data")) or "")
    return generic(as_str(get(block, "type")) or "unknown", block)


def _tool_result(content: Any) -> Any:
    if isinstance(content, str):
        return content
    parts = text_parts(content)
    if parts and len(parts) == len(content or ()):
        return "".join(p.content for p in parts if isinstance(p, TextPart))
    return plain(content)


def block_parts(content: Any) -> tuple[Part, ...]:
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    parts: list[Part] = []
    for block in content or ():
        kind = as_str(get(block, "type")) or "unknown"
        if kind == "text":
            parts.append(TextPart(as_str(get(block, "text")) or ""))
        elif kind == "thinking":
            text = as_str(get(block, "thinking"))
            if text:
                parts.append(ReasoningPart(text))
        elif kind == "tool_use":
            name = as_str(get(block, "name")) or ""
            parts.append(ToolCallPart(name, as_str(get(block, "id")), parsed_arguments(get(block, "input"))))
        elif kind == "tool_result":
            parts.append(ToolCallResponsePart(as_str(get(block, "tool_use_id")), _tool_result(get(block, "content"))))
        elif kind == "image":
            parts.append(_source_part(block, "image"))
        elif kind == "document":
            parts.append(_source_part(block, "document"))
        else:  # redacted_thinking, server_tool_use, web_search_tool_result, ...: type and plain fields
            parts.append(generic(kind, block))
    return tuple(parts)


class MessagesRequestContent:
    """A Messages request: `system` (string or text blocks) and `messages`."""

    __slots__ = ("_system", "_messages")

    def __init__(self, system: Any, messages: Any) -> None:
        self._system = system
        self._messages = messages

    def system_instructions(self) -> tuple[Part, ...]:
        return text_parts(self._system) if self._system is not None else ()

    def messages(self) -> tuple[ChatMessage, ...]:
        return tuple(ChatMessage(role_of(raw), block_parts(get(raw, "content"))) for raw in self._messages or ())


class MessagesResponseContent:
    """A Message's `content` blocks: one assistant message."""

    __slots__ = ("_content", "_stop")

    def __init__(self, content: Any, stop_reason: str | None) -> None:
        self._content = content
        self._stop = stop_reason

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        return (ChatMessage("assistant", block_parts(self._content), finish_reason=finish_reason(self._stop)),)


class StreamedBlocksContent:
    """The blocks a stream accumulated, as (type, id, name, pieces) per index."""

    __slots__ = ("_blocks", "_stop")

    def __init__(self, blocks: list[list[Any]], stop_reason: str | None) -> None:
        self._blocks = blocks
        self._stop = stop_reason

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        parts: list[Part] = []
        for kind, block_id, name, pieces in self._blocks:
            text = "".join(p for p in pieces if isinstance(p, str))
            if kind == "text":
                parts.append(TextPart(text))
            elif kind == "thinking":
                if text:
                    parts.append(ReasoningPart(text))
            elif kind == "tool_use":
                parts.append(ToolCallPart(as_str(name) or "", as_str(block_id), parsed_arguments(text or "{}")))
            elif kind:
                parts.append(generic(str(kind), {}))
        return (ChatMessage("assistant", tuple(parts), finish_reason=finish_reason(self._stop)),)
