"""OpenAI Chat Completions and Responses messages as the conventions' typed parts (`records.ContentSource`)."""

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
)
from .._content import generic, media_part, parsed_arguments, plain, role_of
from .._read import as_str, get

_CHAT_FINISH = {"tool_calls": "tool_call", "function_call": "tool_call"}


def chat_finish(reason: str | None) -> str | None:
    return _CHAT_FINISH.get(reason, reason) if reason else None


def _content_parts(content: Any) -> list[Part]:
    if content is None:
        return []
    if isinstance(content, str):
        return [TextPart(content)] if content else []
    parts: list[Part] = []
    for item in content if isinstance(content, (list, tuple)) else (content,):
        if isinstance(item, str):
            parts.append(TextPart(item))
            continue
        kind = as_str(get(item, "type")) or "unknown"
        if kind in ("text", "input_text", "output_text"):
            parts.append(TextPart(as_str(get(item, "text")) or ""))
        elif kind in ("image_url", "input_image"):
            url = get(item, "image_url")
            url = get(url, "url") if not isinstance(url, str) else url
            file_id = as_str(get(item, "file_id"))
            if isinstance(url, str):
                parts.append(media_part(url, "image"))
            elif file_id:
                parts.append(FilePart("image", file_id))
            else:
                parts.append(generic(kind, item))
        elif kind == "input_audio":
            audio = get(item, "input_audio")
            fmt = as_str(get(audio, "format"))
            parts.append(BlobPart("audio", as_str(get(audio, "data")) or "", f"audio/{fmt}" if fmt else None))
        elif kind in ("file", "input_file"):
            file = get(item, "file") if kind == "file" else item
            file_id = as_str(get(file, "file_id"))
            data = as_str(get(file, "file_data"))
            if file_id:
                parts.append(FilePart("document", file_id))
            elif data:
                parts.append(media_part(data, "document") if data.startswith("data:") else BlobPart("document", data))
            else:
                parts.append(generic(kind, item))
        else:
            parts.append(generic(kind, item))
    return parts


def _tool_response(content: Any) -> Any:
    if isinstance(content, str):
        return content
    texts = [get(item, "text") for item in content or ()]
    if texts and all(isinstance(t, str) for t in texts):
        return "".join(texts)
    return plain(content)


def _chat_message(raw: Any, finish_reason: str | None = None) -> ChatMessage:
    role = role_of(raw, "assistant" if finish_reason is not None else "user")
    content = get(raw, "content")
    if role == "tool":
        parts: list[Part] = [ToolCallResponsePart(as_str(get(raw, "tool_call_id")), _tool_response(content))]
    else:
        parts = []
        reasoning = get(raw, "reasoning_content") or get(raw, "reasoning")  # compatible servers (DeepSeek, llama.cpp)
        if isinstance(reasoning, str) and reasoning:
            parts.append(ReasoningPart(reasoning))
        parts.extend(_content_parts(content))
        refusal = as_str(get(raw, "refusal"))
        if refusal:
            parts.append(generic("refusal", {"content": refusal}))
        for call in get(raw, "tool_calls") or ():
            function = get(call, "function")
            parts.append(
                ToolCallPart(
                    as_str(get(function, "name")) or "",
                    as_str(get(call, "id")),
                    parsed_arguments(get(function, "arguments")),
                )
            )
    return ChatMessage(role, tuple(parts), finish_reason=finish_reason, name=as_str(get(raw, "name")))


class ChatRequestContent:
    """Chat Completions `messages`: system and developer messages are chat history, so they stay input messages."""

    __slots__ = ("_raw",)

    def __init__(self, raw: Any) -> None:
        self._raw = raw

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        return tuple(_chat_message(raw) for raw in self._raw or ())


class ChatResponseContent:
    """The `choices` of a ChatCompletion: one output message per choice."""

    __slots__ = ("_choices",)

    def __init__(self, choices: Any) -> None:
        self._choices = choices

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        return tuple(
            _chat_message(get(choice, "message"), chat_finish(as_str(get(choice, "finish_reason"))) or "stop")
            for choice in self._choices or ()
        )


def _reasoning_text(item: Any) -> str:
    pieces = [get(s, "text") for s in (get(item, "summary") or ())]
    pieces += [get(c, "text") for c in (get(item, "content") or ())]
    return "\n".join(p for p in pieces if isinstance(p, str) and p)


def _response_item_parts(item: Any) -> tuple[str | None, list[Part]]:
    """(role, parts) of one Responses item; role None when the item belongs to the assistant's turn."""
    kind = as_str(get(item, "type")) or "message"
    if kind == "message":
        return role_of(item), _content_parts(get(item, "content"))
    if kind == "function_call":
        name = as_str(get(item, "name")) or ""
        return "assistant", [ToolCallPart(name, as_str(get(item, "call_id")), parsed_arguments(get(item, "arguments")))]
    if kind == "function_call_output":
        return "tool", [ToolCallResponsePart(as_str(get(item, "call_id")), _tool_response(get(item, "output")))]
    if kind == "reasoning":
        text = _reasoning_text(item)
        return "assistant", [ReasoningPart(text)] if text else []
    return "assistant", [generic(kind, item)]


class ResponsesRequestContent:
    """Responses `input` (a string or items) and `instructions` (the system instructions)."""

    __slots__ = ("_input", "_instructions")

    def __init__(self, input_: Any, instructions: Any) -> None:
        self._input = input_
        self._instructions = instructions

    def system_instructions(self) -> tuple[Part, ...]:
        text = as_str(self._instructions)
        return (TextPart(text),) if text else ()

    def messages(self) -> tuple[ChatMessage, ...]:
        if isinstance(self._input, str):
            return (ChatMessage("user", (TextPart(self._input),)),)
        messages: list[ChatMessage] = []
        for item in self._input or ():
            role, parts = _response_item_parts(item)
            role = role or "user"
            if messages and messages[-1].role == role and role != "user" and get(item, "type") != "message":
                previous = messages.pop()  # a turn's reasoning and tool calls are one assistant message
                messages.append(ChatMessage(role, previous.parts + tuple(parts)))
            else:
                messages.append(ChatMessage(role, tuple(parts)))
        return tuple(messages)


class ResponsesOutputContent:
    """A Response's `output` items: one assistant message."""

    __slots__ = ("_output", "_finish")

    def __init__(self, output: Any, finish_reason: str | None) -> None:
        self._output = output
        self._finish = finish_reason

    def system_instructions(self) -> tuple[Part, ...]:
        return ()

    def messages(self) -> tuple[ChatMessage, ...]:
        parts: list[Part] = []
        for item in self._output or ():
            parts.extend(_response_item_parts(item)[1])
        return (ChatMessage("assistant", tuple(parts), finish_reason=self._finish),)
