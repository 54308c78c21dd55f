"""Scripted model providers for the trajectory tests: replies shaped exactly like the providers' API responses.

A `Reply` says what the model answers, provider-neutrally; `openai_body` / `anthropic_body` (and the SSE builders)
turn it into the documented OpenAI Chat Completions and Anthropic Messages payloads. A `Script` serves replies to the
real SDK clients through `httpx2.MockTransport`, either from a queue (one agent, in order) or from a function of the
request (many concurrent agents). `Agent` is a small tool-using agent loop over either SDK: it keeps the message
history exactly as the providers require (assistant messages as returned, OpenAI `tool` messages, Anthropic
`tool_result` blocks).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
import openai

OPENAI_KEY = "sk-proj-TESTKEYabcdefghijklmnop0123456789"
ANTHROPIC_KEY = "sk-ant-api03-TESTKEYabcdefghijklmnop0123456789"
PROVIDERS = ("openai", "anthropic")

TOOLS = {
    "search": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
    "lookup": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
    "population": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "area": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}

_ids = itertools.count(1)
_ids_lock = threading.Lock()


def _next_id() -> int:
    with _ids_lock:
        return next(_ids)


@dataclass
class Reply:
    """What the scripted model answers. `finish`: `stop`, `tool` or `length` (mapped per provider).

    `calls`: (tool name, arguments); arguments are a dict, or a raw string (OpenAI only: Anthropic sends `input` as
    an object, so it cannot be unparsable). `status` other than 200 serves the provider's error body instead.
    """

    text: str = ""
    calls: tuple[tuple[str, Any], ...] = ()
    finish: str | None = None
    status: int = 200
    input_tokens: int = 100
    output_tokens: int = 20
    response_id: str | None = None

    @property
    def finish_reason(self) -> str:
        if self.finish is not None:
            return self.finish
        return "tool" if self.calls else "stop"


def text(value: str, **kwargs: Any) -> Reply:
    return Reply(text=value, **kwargs)


def call(name: str, arguments: Any, **kwargs: Any) -> Reply:
    return Reply(calls=((name, arguments),), **kwargs)


# -- OpenAI Chat Completions ------------------------------------------------------------------------------------------
_OPENAI_FINISH = {"stop": "stop", "tool": "tool_calls", "length": "length"}


def openai_call_id() -> str:
    return f"call_{_next_id():08d}q7XnT2mZbK4wLp9R"


def openai_body(reply: Reply, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.text if (reply.text or not reply.calls) else None,
        "refusal": None,
        "annotations": [],
    }
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": openai_call_id(),
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for name, args in reply.calls
        ]
    return {
        "id": reply.response_id or f"chatcmpl-{_next_id():010d}CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": f"{model}-2026-03-17",
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": _OPENAI_FINISH[reply.finish_reason]}
        ],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        },
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }


def openai_sse(reply: Reply, model: str) -> bytes:
    """The documented chunk sequence: role, content deltas, finish, then the usage chunk (include_usage)."""
    base = {
        "id": reply.response_id or f"chatcmpl-{_next_id():010d}stream",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": f"{model}-2026-03-17",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }
    chunks = [
        {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": "", "refusal": None},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
            "usage": None,
        }
    ]
    for word in reply.text.split(" "):
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"content": word + " "}, "logprobs": None, "finish_reason": None}],
                "usage": None,
            }
        )
    chunks.append(
        {
            **base,
            "choices": [
                {"index": 0, "delta": {}, "logprobs": None, "finish_reason": _OPENAI_FINISH[reply.finish_reason]}
            ],
            "usage": None,
        }
    )
    chunks.append(
        {
            **base,
            "choices": [],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
            },
        }
    )
    return ("".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n").encode()


def openai_error(status: int) -> dict[str, Any]:
    return {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


# -- Anthropic Messages -----------------------------------------------------------------------------------------------
_ANTHROPIC_STOP = {"stop": "end_turn", "tool": "tool_use", "length": "max_tokens"}


def anthropic_call_id() -> str:
    return f"toolu_01{_next_id():08d}A09q90qw90lq917835lq9"


def anthropic_usage(reply: Reply) -> dict[str, Any]:
    return {
        "input_tokens": reply.input_tokens,
        "output_tokens": reply.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
    }


def anthropic_body(reply: Reply, model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if reply.text:
        content.append({"type": "text", "text": reply.text, "citations": None})
    for name, args in reply.calls:
        if isinstance(args, str):
            raise ValueError("Anthropic tool_use input is an object; raw argument text is OpenAI-only")
        content.append({"type": "tool_use", "id": anthropic_call_id(), "name": name, "input": args})
    return {
        "id": reply.response_id or f"msg_{_next_id():010d}3Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": f"{model}-20250929",
        "content": content,
        "stop_reason": _ANTHROPIC_STOP[reply.finish_reason],
        "stop_sequence": None,
        "usage": anthropic_usage(reply),
    }


def anthropic_sse(reply: Reply, model: str) -> bytes:
    """The documented Messages stream: message_start, ping, one text block, message_delta, message_stop."""
    mid = reply.response_id or f"msg_{_next_id():010d}Stream"
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": mid,
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": f"{model}-20250929",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {**anthropic_usage(reply), "output_tokens": 1},
                },
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": "", "citations": None},
            },
        ),
    ]
    for word in reply.text.split(" "):
        events.append(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word + " "}},
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _ANTHROPIC_STOP[reply.finish_reason], "stop_sequence": None},
                "usage": {"output_tokens": reply.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in events).encode()


def anthropic_error(status: int) -> dict[str, Any]:
    kind = {500: "api_error", 529: "overloaded_error", 400: "invalid_request_error"}.get(status, "api_error")
    return {
        "type": "error",
        "error": {"type": kind, "message": "Internal server error"},
        "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }


# -- serving ----------------------------------------------------------------------------------------------------------
def _serve(reply: Reply, request: httpx2.Request) -> httpx2.Response:
    body = json.loads(request.content)
    model = body.get("model") or "unknown"
    is_anthropic = request.url.path.endswith("/messages")
    if reply.status != 200:
        error = anthropic_error(reply.status) if is_anthropic else openai_error(reply.status)
        return httpx2.Response(reply.status, json=error)
    if body.get("stream"):
        data = anthropic_sse(reply, model) if is_anthropic else openai_sse(reply, model)
        return httpx2.Response(200, content=data, headers={"content-type": "text/event-stream"})
    return httpx2.Response(200, json=anthropic_body(reply, model) if is_anthropic else openai_body(reply, model))


class Script:
    """Serves replies in order (`replies`), or computed from each request's JSON body (`respond`)."""

    def __init__(
        self,
        *replies: Reply,
        respond: Callable[[dict[str, Any]], Reply] | None = None,
        delay: Callable[[dict[str, Any]], float] | None = None,
    ) -> None:
        self.queue: deque[Reply] = deque(replies)
        self.respond = respond
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, *replies: Reply) -> Script:
        self.queue.extend(replies)
        return self

    def _reply(self, request: httpx2.Request) -> Reply:
        body = json.loads(request.content)
        with self._lock:
            self.requests.append(body)
            if self.respond is not None:
                return self.respond(body)
            if not self.queue:
                raise AssertionError(f"script exhausted at request {len(self.requests)}")
            return self.queue.popleft()

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        reply = self._reply(request)
        if self.delay is not None:
            time.sleep(self.delay(json.loads(request.content)))
        return _serve(reply, request)

    async def ahandle(self, request: httpx2.Request) -> httpx2.Response:
        reply = self._reply(request)
        await asyncio.sleep(self.delay(json.loads(request.content)) if self.delay is not None else 0)
        return _serve(reply, request)

    def client(self, provider: str, *, is_async: bool = False) -> Any:
        if provider == "openai":
            if is_async:
                return openai.AsyncOpenAI(
                    api_key=OPENAI_KEY,
                    max_retries=0,
                    http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.ahandle)),
                )
            return openai.OpenAI(
                api_key=OPENAI_KEY,
                max_retries=0,
                http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle)),
            )
        if is_async:
            return anthropic.AsyncAnthropic(
                api_key=ANTHROPIC_KEY,
                max_retries=0,
                http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(self.ahandle)),
            )
        return anthropic.Anthropic(
            api_key=ANTHROPIC_KEY, max_retries=0, http_client=httpx2.Client(transport=httpx2.MockTransport(self.handle))
        )


# -- the agent loop ---------------------------------------------------------------------------------------------------
@dataclass
class Answer:
    text: str
    calls: list[tuple[str, str, dict[str, Any] | str]]  # (call id, tool name, arguments)
    finish: str  # stop | tool | length
    error: BaseException | None = None
    id: str | None = None  # the response id


@dataclass
class Agent:
    """One agent conversation over either SDK (sync or async client), with the provider's own message shapes."""

    provider: str
    client: Any
    task: str = "Find the population of Lyon."
    tools: tuple[str, ...] = ("search", "lookup")
    system: str = "You are a research agent. Use the tools."
    messages: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.provider == "openai":
            self.messages = [{"role": "system", "content": self.system}]
        self.messages.append({"role": "user", "content": self.task})

    # -- requests -----------------------------------------------------------------------------------------------
    def _request(self, model: str, max_tokens: int | None, stream: bool) -> dict[str, Any]:
        if self.provider == "openai":
            kwargs: dict[str, Any] = {"model": model, "messages": list(self.messages)}
            if self.tools:
                kwargs["tools"] = [
                    {
                        "type": "function",
                        "function": {"name": name, "description": f"{name} tool", "parameters": TOOLS[name]},
                    }
                    for name in self.tools
                ]
            if max_tokens is not None:
                kwargs["max_completion_tokens"] = max_tokens
            if stream:
                kwargs["stream"] = True
                kwargs["stream_options"] = {"include_usage": True}
            return kwargs
        kwargs = {
            "model": model,
            "system": self.system,
            "messages": list(self.messages),
            "max_tokens": max_tokens or 1024,
        }
        if self.tools:
            kwargs["tools"] = [
                {"name": name, "description": f"{name} tool", "input_schema": TOOLS[name]} for name in self.tools
            ]
        if stream:
            kwargs["stream"] = True
        return kwargs

    def _create(self) -> Callable[..., Any]:
        if self.provider == "openai":
            return self.client.chat.completions.create
        return self.client.messages.create

    def _record(self, response: Any) -> Answer:
        if self.provider == "openai":
            choice = response.choices[0]
            message = choice.message
            self.messages.append(message.model_dump(exclude_none=True))
            calls = [(c.id, c.function.name, c.function.arguments) for c in (message.tool_calls or ())]
            finish = {"tool_calls": "tool", "length": "length"}.get(choice.finish_reason, "stop")
            return Answer(message.content or "", calls, finish, id=response.id)
        blocks = [block.model_dump(exclude_none=True) for block in response.content]
        self.messages.append({"role": "assistant", "content": blocks})
        texts = "".join(b.get("text", "") for b in blocks if b["type"] == "text")
        calls = [(b["id"], b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
        finish = {"tool_use": "tool", "max_tokens": "length"}.get(response.stop_reason, "stop")
        return Answer(texts, calls, finish, id=response.id)

    def _errors(self) -> tuple[type[BaseException], ...]:
        return (openai.APIStatusError,) if self.provider == "openai" else (anthropic.APIStatusError,)

    def ask(self, model: str, *, max_tokens: int | None = None) -> Answer:
        """One turn: the answer is appended to the history; an API error leaves the history as it was."""
        try:
            response = self._create()(**self._request(model, max_tokens, False))
        except self._errors() as error:
            return Answer("", [], "error", error)
        return self._record(response)

    async def aask(self, model: str, *, max_tokens: int | None = None) -> Answer:
        try:
            response = await self._create()(**self._request(model, max_tokens, False))
        except self._errors() as error:
            return Answer("", [], "error", error)
        return self._record(response)

    def ask_and_abandon(self, model: str) -> None:
        """A streamed turn the agent gives up on after the first chunk (`break`, then `close()`)."""
        stream = self._create()(**self._request(model, None, True))
        for _chunk in stream:
            break
        stream.close()

    async def aask_and_abandon(self, model: str) -> None:
        stream = await self._create()(**self._request(model, None, True))
        async for _chunk in stream:
            break
        await stream.close()

    # -- what the agent sends back ----------------------------------------------------------------------------------
    def results(self, *results: tuple[str, str, bool]) -> None:
        """Tool results: (call id, content, is_error). OpenAI has no error flag: the content must say so."""
        if self.provider == "openai":
            for call_id, content, _failed in results:
                self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
            return
        self.messages.append(
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": call_id,
                        "content": content,
                        **({"is_error": True} if failed else {}),
                    }
                    for call_id, content, failed in results
                ],
            }
        )

    def say(self, content: str) -> None:
        self.messages.append({"role": "user", "content": content})
