"""The Ollama adapter, at the client's one request seam: `Client._request(cls, method, path, json=..., stream=...)`
(and `AsyncClient._request`). Usage is `prompt_eval_count` (input) and `eval_count` (output). An Ollama server is
usually on this machine, so its calls are local endpoints: GPU attribution and GPU-hour pricing apply to them."""

from __future__ import annotations

from typing import Any

from ...records import (
    ChatMessage,
    Message,
    RequestParams,
    TextPart,
    ToolCall,
    ToolResult,
    TurnRequest,
    TurnResponse,
    Usage,
)
from ...values import canonical_json
from .._lazy import LazyContent
from .._read import as_float, as_int, as_str, get
from ..base import Started, whole
from ..openai.content import ChatRequestContent, ChatResponseContent

_ROUTES = {
    "/api/chat": ("chat", "chat"),
    "/api/generate": ("generate", "text_completion"),
    "/api/embed": ("embed", "embeddings"),
}


class OllamaAdapter:
    provider = "ollama"

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Started | None:
        method = args[1] if len(args) > 1 else kwargs.get("method")
        path = args[2] if len(args) > 2 else kwargs.get("url")
        route = _ROUTES.get(path) if isinstance(path, str) and str(method).upper() == "POST" else None
        if route is None:
            return None
        api, operation = route
        body = kwargs.get("json")
        body = body if isinstance(body, dict) else {}
        stream = bool(kwargs.get("stream"))
        address, port = _server(getattr(instance, "_client", None))
        request = TurnRequest(
            provider=self.provider,
            operation=operation,  # type: ignore[arg-type]
            model=as_str(body.get("model")),
            server_address=address,
            server_port=port,
            stream=stream,
            params=request_params(body),
            api=api,
        )
        if api == "chat":
            request.messages, request.system = request_messages(body.get("messages"))
            request.content = ChatRequestContent(body.get("messages"))
            tools = body.get("tools")
            request.tool_names = (
                tuple(n for t in tools if isinstance(n := get(get(t, "function"), "name") or get(t, "__name__"), str))
                if tools
                else None
            )
        elif api == "generate":
            prompt = as_str(body.get("prompt")) or ""
            request.messages = (Message("user", text=prompt),)
            request.system = as_str(body.get("system"))
            system = request.system
            request.content = LazyContent(
                lambda: (ChatMessage("user", (TextPart(prompt),)),),
                lambda: (TextPart(system),) if system else (),
            )
        return Started(request, stream=stream, state=api)

    def response(self, started: Started, result: Any) -> TurnResponse:
        if started.state == "embed":
            return TurnResponse(
                model=as_str(get(result, "model")), usage=Usage(input_tokens=as_int(get(result, "prompt_eval_count")))
            )
        return response(result)

    def accumulator(self, started: Started) -> OllamaStreamAccumulator:
        return OllamaStreamAccumulator()

    def stream_of(self, started: Started, result: Any) -> Any:
        return whole(result)


def _server(http_client: Any) -> tuple[str | None, int | None]:
    url = getattr(http_client, "base_url", None)
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return None, None
    port = getattr(url, "port", None)
    return host, port if isinstance(port, int) else (443 if getattr(url, "scheme", "") == "https" else 80)


def _calls(message: Any) -> tuple[ToolCall, ...]:
    return tuple(
        ToolCall(id=None, name=as_str(get(f, "name")) or "", arguments=canonical_json(get(f, "arguments")) or "{}")
        for call in get(message, "tool_calls") or ()
        if (f := get(call, "function")) is not None
    )


def request_messages(raw: Any) -> tuple[tuple[Message, ...], str | None]:
    system: list[str] = []
    messages: list[Message] = []
    for message in raw or ():
        role = as_str(get(message, "role")) or "user"
        text = as_str(get(message, "content")) or ""
        if role == "system":
            system.append(text)
        elif role == "tool":
            messages.append(Message(role, tool_results=(ToolResult(as_str(get(message, "tool_name")), text),)))
        else:
            messages.append(Message(role, text=text, tool_calls=_calls(message)))
    return tuple(messages), ("\n".join(system) if system else None)


def request_params(body: dict[str, Any]) -> RequestParams:
    options = body.get("options") or {}
    stop = get(options, "stop")
    think = body.get("think")
    fmt = body.get("format")
    return RequestParams(
        max_tokens=as_int(get(options, "num_predict")),
        temperature=as_float(get(options, "temperature")),
        top_p=as_float(get(options, "top_p")),
        top_k=as_int(get(options, "top_k")),
        seed=as_int(get(options, "seed")),
        stop_sequences=tuple(stop) if isinstance(stop, list) else None,
        frequency_penalty=as_float(get(options, "frequency_penalty")),
        presence_penalty=as_float(get(options, "presence_penalty")),
        reasoning_effort=think if isinstance(think, str) else None,
        output_type="json" if fmt is not None and fmt != "" else None,
    )


def _usage(raw: Any) -> Usage | None:
    prompt = as_int(get(raw, "prompt_eval_count"))
    output = as_int(get(raw, "eval_count"))
    return None if prompt is None and output is None else Usage(input_tokens=prompt, output_tokens=output)


def response(parsed: Any) -> TurnResponse:
    message = get(parsed, "message")
    text = as_str(get(message, "content")) if message is not None else as_str(get(parsed, "response"))
    thinking = get(message, "thinking") if message is not None else get(parsed, "thinking")
    reason = as_str(get(parsed, "done_reason"))
    return TurnResponse(
        model=as_str(get(parsed, "model")),
        finish_reasons=(reason,) if reason else (),
        usage=_usage(parsed),
        text=text or "",
        tool_calls=_calls(message),
        has_thinking=bool(thinking),
        content=ChatResponseContent(
            [
                {
                    "message": message if message is not None else {"role": "assistant", "content": text or ""},
                    "finish_reason": reason,
                }
            ]
        ),
    )


class OllamaStreamAccumulator:
    """Each line is a partial response; the last (`done: true`) carries the counts and `done_reason`."""

    __slots__ = ("_model", "_text", "_calls", "_last", "_thinking")

    def __init__(self) -> None:
        self._model: str | None = None
        self._text: list[str] = []
        self._calls: list[ToolCall] = []
        self._last: Any = None
        self._thinking = False

    def add(self, chunk: Any) -> None:
        self._model = self._model or as_str(get(chunk, "model"))
        message = get(chunk, "message")
        piece = as_str(get(message, "content")) if message is not None else as_str(get(chunk, "response"))
        if piece:
            self._text.append(piece)
        if get(message, "thinking") or get(chunk, "thinking"):
            self._thinking = True
        self._calls.extend(_calls(message))
        if get(chunk, "done"):
            self._last = chunk

    def result(self) -> TurnResponse:
        reason = as_str(get(self._last, "done_reason"))
        text = "".join(self._text)
        return TurnResponse(
            model=self._model,
            finish_reasons=(reason,) if reason else (),
            usage=_usage(self._last) if self._last is not None else None,
            text=text,
            tool_calls=tuple(self._calls),
            has_thinking=self._thinking,
            content=ChatResponseContent(
                [
                    {
                        "message": {
                            "role": "assistant",
                            "content": text,
                            "tool_calls": [
                                {"function": {"name": c.name, "arguments": c.arguments}} for c in self._calls
                            ],
                        },
                        "finish_reason": reason,
                    }
                ]
            ),
        )
