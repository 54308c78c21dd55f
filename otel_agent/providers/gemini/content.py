"""Gemini `Content` objects (REST shape: role + parts) into the conventions' message parts."""

from __future__ import annotations

from typing import Any

from ...records import BlobPart, ChatMessage, Part, ReasoningPart, TextPart, ToolCallPart, ToolCallResponsePart, UriPart
from .._content import generic, modality_of, plain
from .._read import as_str, get

# Gemini finishReason (lower-cased) -> the conventions' finish_reason
_FINISH = {"stop": "stop", "max_tokens": "length", "malformed_function_call": "error"}
_FILTERED = frozenset({"safety", "prohibited_content", "blocklist", "spii", "recitation", "image_safety"})


def finish_reason(reason: str | None, has_calls: bool) -> str:
    if has_calls:
        return "tool_call"
    if reason in _FILTERED:
        return "content_filter"
    return _FINISH.get(reason or "stop", "stop")


def parts_of(raw_parts: Any) -> tuple[Part, ...]:
    parts: list[Part] = []
    for part in raw_parts or ():
        text = get(part, "text")
        if isinstance(text, str):
            parts.append(ReasoningPart(text) if get(part, "thought") else TextPart(text))
        elif (call := get(part, "functionCall") or get(part, "function_call")) is not None:
            parts.append(
                ToolCallPart(as_str(get(call, "name")) or "", as_str(get(call, "id")), plain(get(call, "args")))
            )
        elif (result := get(part, "functionResponse") or get(part, "function_response")) is not None:
            call_id = as_str(get(result, "id")) or as_str(get(result, "name"))
            parts.append(ToolCallResponsePart(call_id, plain(get(result, "response"))))
        elif (blob := get(part, "inlineData") or get(part, "inline_data")) is not None:
            mime = as_str(get(blob, "mimeType"))
            parts.append(BlobPart(modality_of(mime), as_str(get(blob, "data")) or "", mime))
        elif (file := get(part, "fileData") or get(part, "file_data")) is not None:
            mime = as_str(get(file, "mimeType"))
            parts.append(UriPart(modality_of(mime), as_str(get(file, "fileUri")) or "", mime))
        else:
            parts.append(generic("part", part))
    return tuple(parts)


def message(content: Any, finish: str | None = None) -> ChatMessage:
    role = as_str(get(content, "role")) or ("model" if finish is not None else "user")
    return ChatMessage("assistant" if role == "model" else role, parts_of(get(content, "parts")), finish_reason=finish)


def request_messages(contents: Any) -> tuple[ChatMessage, ...]:
    return tuple(message(c) for c in contents or ())


def system_parts(system: Any) -> tuple[Part, ...]:
    return parts_of(get(system, "parts")) if system is not None else ()


def candidate_messages(candidates: Any) -> tuple[ChatMessage, ...]:
    out = []
    for candidate in candidates or ():
        content = get(candidate, "content")
        reason = as_str(get(candidate, "finishReason"))
        calls = any(get(p, "functionCall") is not None for p in get(content, "parts") or ())
        out.append(message(content, finish_reason(reason.lower() if reason else None, calls)))
    return tuple(out)
