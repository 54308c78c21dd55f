"""Helpers the providers' `ContentSource`s share: SDK objects or plain dicts into the neutral parts of `records`."""

from __future__ import annotations

import json
from typing import Any

from ..records import BlobPart, ChatMessage, GenericPart, Part, ReasoningPart, TextPart, ToolCallPart, UriPart
from ._read import as_str, get

# Fields never captured, whatever the block: signatures and encrypted or opaque payloads are not content.
_DROPPED_FIELDS = frozenset({"signature", "encrypted_content", "data", "cache_control"})


def parsed_arguments(value: Any) -> Any:
    """Tool arguments as the conventions want them: the parsed JSON value, else the raw text."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return plain(value)


def plain(value: Any) -> Any:
    """A plain JSON-able copy of an SDK object or dict (pydantic models dumped without warnings)."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return plain(dump(mode="json", exclude_none=True, warnings=False))
        except Exception:
            return str(value)
    return str(value)


def generic(kind: str, block: Any) -> GenericPart:
    fields = plain(block)
    if not isinstance(fields, dict):
        fields = {"value": fields}
    fields = {k: v for k, v in fields.items() if k != "type" and k not in _DROPPED_FIELDS}
    return GenericPart(kind, fields)


def text_parts(content: Any) -> tuple[Part, ...]:
    """A content that is a string, or a list of text parts (any part with a string `text`)."""
    if isinstance(content, str):
        return (TextPart(content),) if content else ()
    parts: list[Part] = []
    for item in content or ():
        if isinstance(item, str):
            parts.append(TextPart(item))
            continue
        text = get(item, "text")
        if isinstance(text, str):
            parts.append(TextPart(text))
    return tuple(parts)


def media_part(url: str, modality: str, mime_type: str | None = None) -> Part:
    """A `data:` URL is an inline blob (its base64 payload); any other URL a URI part."""
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        mime = header[5:].split(";")[0] or mime_type
        return BlobPart(modality, payload, mime or None)
    return UriPart(modality, url, mime_type)


def modality_of(mime_type: str | None, default: str = "document") -> str:
    if mime_type:
        head = mime_type.split("/")[0]
        if head in ("image", "video", "audio"):
            return head
    return default


def role_of(raw: Any, default: str = "user") -> str:
    return as_str(get(raw, "role")) or default


class AccumulatedOutput:
    """The output message of a stream, from what its accumulator kept (text, reasoning, tool calls)."""

    __slots__ = ("_text", "_reasoning", "_calls", "_finish")

    def __init__(self, text: str, calls: Any, finish_reason: str | None, reasoning: str = "") -> None:
        self._text = text
        self._reasoning = reasoning
        self._calls = calls
        self._finish = finish_reason

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        parts: list[Part] = []
        if self._reasoning:
            parts.append(ReasoningPart(self._reasoning))
        if self._text:
            parts.append(TextPart(self._text))
        for call in self._calls:
            parts.append(ToolCallPart(call.name, call.id, parsed_arguments(call.arguments)))
        return (ChatMessage("assistant", tuple(parts), finish_reason=self._finish),)
