"""OpenAI Chat Completions: request, response and stream chunks into neutral records."""

from __future__ import annotations

from typing import Any

from ...records import Message, RequestParams, ToolCall, ToolResult, TurnResponse, Usage
from .._content import AccumulatedOutput
from .._messages import text_of
from .._read import as_arguments, as_cost, as_float, as_index, as_int, as_int64, as_list, as_str, get
from .content import ChatResponseContent, chat_finish


def request_messages(body: dict[str, Any]) -> tuple[tuple[Message, ...], str | None]:
    messages: list[Message] = []
    system: list[str] = []
    for raw in as_list(body.get("messages")):
        role = as_str(get(raw, "role")) or "user"
        text = text_of(get(raw, "content"))
        if role in ("system", "developer"):
            system.append(text)
            continue
        if role == "tool":
            messages.append(Message(role, tool_results=(ToolResult(as_str(get(raw, "tool_call_id")), text),)))
            continue
        calls = tuple(_tool_call(c) for c in as_list(get(raw, "tool_calls")))
        messages.append(Message(role, text=text, tool_calls=calls))
    return tuple(messages), ("\n".join(system) if system else None)


def request_params(body: dict[str, Any]) -> RequestParams:
    stop = body.get("stop")
    response_format = get(body.get("response_format"), "type")
    return RequestParams(
        max_tokens=as_int(body.get("max_completion_tokens")) or as_int(body.get("max_tokens")),
        temperature=as_float(body.get("temperature")),
        top_p=as_float(body.get("top_p")),
        stop_sequences=(stop,) if isinstance(stop, str) else (tuple(stop) if isinstance(stop, list) else None),
        seed=as_int64(body.get("seed")),
        frequency_penalty=as_float(body.get("frequency_penalty")),
        presence_penalty=as_float(body.get("presence_penalty")),
        choice_count=as_int(body.get("n")),
        reasoning_effort=as_str(body.get("reasoning_effort")),
        output_type="json" if response_format in ("json_object", "json_schema") else None,
    )


def tool_names(tools: Any) -> tuple[str, ...] | None:
    if not tools:
        return None
    names = []
    for tool in as_list(tools):
        name = get(get(tool, "function"), "name") or get(tool, "name")
        if isinstance(name, str):
            names.append(name)
    return tuple(names)


def _tool_call(raw: Any) -> ToolCall:
    function = get(raw, "function")
    arguments = get(function, "arguments")
    return ToolCall(
        id=as_str(get(raw, "id")),
        name=as_str(get(function, "name")) or "",
        arguments=as_arguments(arguments),
        type=as_str(get(raw, "type")) or "function",
    )


def usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    prompt = get(raw, "prompt_tokens_details")
    completion = get(raw, "completion_tokens_details")
    return Usage(
        input_tokens=as_int(get(raw, "prompt_tokens")),
        output_tokens=as_int(get(raw, "completion_tokens")),
        cache_read_tokens=as_int(get(prompt, "cached_tokens")),
        cache_write_tokens=as_int(get(prompt, "cache_write_tokens")),
        reasoning_tokens=as_int(get(completion, "reasoning_tokens")),
    )


def response(parsed: Any) -> TurnResponse:
    finish: list[str] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    refusal = None
    for choice in as_list(get(parsed, "choices")):
        reason = as_str(get(choice, "finish_reason"))
        if reason:
            finish.append(reason)
        message = get(choice, "message")
        content = get(message, "content")
        if isinstance(content, str):
            texts.append(content)
        refusal = refusal or as_str(get(message, "refusal"))
        calls.extend(_tool_call(c) for c in as_list(get(message, "tool_calls")))
    result = TurnResponse(
        id=as_str(get(parsed, "id")),
        model=as_str(get(parsed, "model")),
        finish_reasons=tuple(finish),
        usage=usage(get(parsed, "usage")),
        text="".join(texts),
        tool_calls=tuple(calls),
        refusal=refusal,
        content=ChatResponseContent(get(parsed, "choices")),
        reported_cost=as_cost(get(get(parsed, "usage"), "cost")),
        service_tier=as_str(get(parsed, "service_tier")),
        system_fingerprint=as_str(get(parsed, "system_fingerprint")),
    )
    result.has_thinking = bool(result.usage and result.usage.reasoning_tokens)
    return result


class ChatStreamAccumulator:
    """Keeps only what the record needs from each chunk: text pieces, tool-call pieces, finish reasons, usage."""

    __slots__ = ("_id", "_model", "_text", "_finish", "_calls", "_usage", "_refusal", "_tier", "_fingerprint")

    def __init__(self) -> None:
        self._id: str | None = None
        self._model: str | None = None
        self._tier: Any = None
        self._fingerprint: Any = None
        self._text: list[str] = []
        self._finish: dict[int, str] = {}
        self._calls: dict[tuple[int, int], list[Any]] = {}
        self._usage: Any = None
        self._refusal: list[str] = []

    def add(self, chunk: Any) -> None:
        # each field on its own: a malformed one is skipped, the rest of the chunk still counts
        if self._id is None:
            self._id = as_str(get(chunk, "id"))
        if self._model is None:
            self._model = as_str(get(chunk, "model"))
        self._tier = as_str(get(chunk, "service_tier")) or self._tier
        self._fingerprint = as_str(get(chunk, "system_fingerprint")) or self._fingerprint
        chunk_usage = get(chunk, "usage")
        if chunk_usage is not None:
            self._usage = chunk_usage
        for choice in as_list(get(chunk, "choices")):
            index = as_index(get(choice, "index"))
            delta = get(choice, "delta")
            content = as_str(get(delta, "content"))
            if content:
                self._text.append(content)
            refusal = as_str(get(delta, "refusal"))
            if refusal:
                self._refusal.append(refusal)
            for call in as_list(get(delta, "tool_calls")):
                self._add_call(index, call)
            reason = as_str(get(choice, "finish_reason"))
            if reason:
                self._finish[index] = reason

    def _add_call(self, choice_index: int, call: Any) -> None:
        key = (choice_index, as_index(get(call, "index")))
        entry = self._calls.get(key)
        if entry is None:
            entry = self._calls[key] = [None, "", []]
        function = get(call, "function")
        entry[0] = entry[0] or as_str(get(call, "id"))
        name = as_str(get(function, "name"))
        if name:
            entry[1] += name
        arguments = as_str(get(function, "arguments"))
        if arguments:
            entry[2].append(arguments)

    def result(self) -> TurnResponse:
        calls = tuple(
            ToolCall(id=as_str(call_id), name=name, arguments="".join(arguments))
            for (call_id, name, arguments) in self._calls.values()
        )
        result = TurnResponse(
            id=as_str(self._id),
            model=as_str(self._model),
            finish_reasons=tuple(self._finish[k] for k in sorted(self._finish)),
            usage=usage(self._usage),
            text="".join(self._text),
            tool_calls=calls,
            refusal="".join(self._refusal) or None,
            reported_cost=as_cost(get(self._usage, "cost")),
            service_tier=as_str(self._tier),
            system_fingerprint=as_str(self._fingerprint),
        )
        finish = chat_finish(result.finish_reasons[0]) if result.finish_reasons else None
        result.content = AccumulatedOutput(result.text, calls, finish)
        result.has_thinking = bool(result.usage and result.usage.reasoning_tokens)
        return result
