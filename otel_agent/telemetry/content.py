"""Message-content capture: off by default, opt-in, capped, and never carrying secrets.

`render_messages` / `render_parts` turn the neutral message records (`records.ChatMessage`, `records.Part`) into the
GenAI conventions' message schema (`{"role": ..., "parts": [{"type": ..., ...}], "finish_reason": ...}`), every
string masked for secrets; the size cap (`content_max_chars`, on the JSON text) cuts the longest strings first and
marks each cut, so the result is always valid JSON of the same shape; when even empty strings do not fit, the oldest
messages go first (a message is never cut in two).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from ..config import ContentMode, parse_content_mode
from ..ratelog import RateLimitedLog
from ..records import (
    BlobPart,
    ChatMessage,
    FilePart,
    GenericPart,
    Part,
    ReasoningPart,
    TextPart,
    ToolCallPart,
    ToolCallResponsePart,
    UriPart,
)
from ..redaction import redact

__all__ = ["ContentMode", "parse_content_mode", "redact", "to_json", "render_messages", "render_parts"]
log = logging.getLogger("otel_agent")
_failed = RateLimitedLog(log)


def content_failed(where: str) -> None:
    """Malformed content loses the content, never the span: logged once per place (then a periodic count), at
    debug level."""
    _failed.debug(where, "otel-agent: could not read message content (%s)", where, exc_info=True)


def to_json(value: Any, max_chars: int) -> str:
    """Serialise captured content as JSON, secrets masked, cut at `max_chars` (marked as cut)."""
    try:
        text = json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # RecursionError: content nested deeper than json can go
        text = json.dumps(_safe_str(value))
    text = redact(text)
    if len(text) > max_chars:
        return _cut_json(text, max_chars)
    return text


def _cut_json(text: str, max_chars: int) -> str:
    """`text` (JSON) within `max_chars`, still valid JSON: its longest strings cut first, each cut marked."""
    try:
        capped = _cap([json.loads(text)], max_chars)
    except (ValueError, RecursionError):
        capped = []
    if capped:
        return _dumps(capped[0])
    return json.dumps(TRUNCATED)  # nothing fits: the marker alone (16 characters), still JSON


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            # warnings=False: a model the SDK built without validation (a malformed payload) would otherwise emit
            # pydantic's serialization UserWarnings into the host
            return dump(mode="json", exclude_none=True, warnings=False)
        except TypeError:  # a model_dump that is not pydantic's: its text is enough
            return _safe_str(value)
    return _safe_str(value)


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


# -- the conventions' message schema -------------------------------------------------------------------------------
TRUNCATED = "...[truncated]"


def part_dict(part: Part) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "content": part.content}
    if isinstance(part, ReasoningPart):
        return {"type": "reasoning", "content": part.content}
    if isinstance(part, ToolCallPart):
        call: dict[str, Any] = {"type": "tool_call", "name": part.name}
        if part.id is not None:
            call["id"] = part.id
        if part.arguments is not None:
            call["arguments"] = part.arguments
        return call
    if isinstance(part, ToolCallResponsePart):
        return {"type": "tool_call_response", "id": part.id, "response": part.response}
    if isinstance(part, BlobPart):
        return _media({"type": "blob", "modality": part.modality, "content": part.content}, part.mime_type)
    if isinstance(part, UriPart):
        return _media({"type": "uri", "modality": part.modality, "uri": part.uri}, part.mime_type)
    if isinstance(part, FilePart):
        return _media({"type": "file", "modality": part.modality, "file_id": part.file_id}, part.mime_type)
    if isinstance(part, GenericPart):
        return {**part.fields, "type": part.type}
    return {"type": type(part).__name__}


def _media(value: dict[str, Any], mime_type: str | None) -> dict[str, Any]:
    if mime_type:
        value["mime_type"] = mime_type
    return value


def message_dict(message: ChatMessage) -> dict[str, Any]:
    value: dict[str, Any] = {"role": message.role, "parts": [part_dict(p) for p in message.parts]}
    if message.name:
        value["name"] = message.name
    if message.finish_reason:
        value["finish_reason"] = message.finish_reason
    return value


def capped_messages(messages: tuple[ChatMessage, ...], max_chars: int) -> list[dict[str, Any]]:
    """The schema's message list, redacted and within `max_chars` of JSON."""
    return _cap([_redacted(message_dict(m)) for m in messages], max_chars)


def capped_parts(parts: tuple[Part, ...], max_chars: int) -> list[dict[str, Any]]:
    return _cap([_redacted(part_dict(p)) for p in parts], max_chars)


def render_messages(messages: tuple[ChatMessage, ...], max_chars: int) -> str:
    return _dumps(capped_messages(messages, max_chars))


def render_parts(parts: tuple[Part, ...], max_chars: int) -> str:
    return _dumps(capped_parts(parts, max_chars))


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_redacted(v) for v in value]
    return value


def _strings(value: Any, out: list[tuple[Any, Any, int]]) -> None:
    """Every string leaf as (container, key, length)."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        if isinstance(item, str):
            if not (isinstance(value, dict) and key in ("type", "role", "id", "name", "finish_reason")):
                out.append((value, key, len(item)))
        else:
            _strings(item, out)


def _cap(items: list[Any], max_chars: int) -> list[Any]:
    if len(_dumps(items)) <= max_chars:
        return items
    leaves: list[tuple[Any, Any, int]] = []
    _strings(items, leaves)
    originals = [(container, key, container[key]) for container, key, _ in leaves]

    def fits(limit: int, start: int) -> bool:
        for container, key, text in originals:
            container[key] = text if len(text) <= limit else text[:limit] + TRUNCATED
        return len(_dumps(items[start:])) <= max_chars

    # first the oldest messages that cannot fit even with every string cut to nothing (binary search on the start)
    low, high = 0, len(items)
    while low < high:
        middle = (low + high) // 2
        if fits(0, middle):
            high = middle
        else:
            low = middle + 1
    start = low
    # then the largest per-string limit that fits what is left
    low, high = 0, max((len(text) for _, _, text in originals), default=0)
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle, start):
            low = middle
        else:
            high = middle - 1
    fits(low, start)
    return items[start:]
