"""Provider payloads shaped exactly like the documented API responses, served in-process by `httpx2.MockTransport`.

The mock transport stands in for provider-only fields that the local model server never produces (OpenAI
`completion_tokens_details.reasoning_tokens`, `prompt_tokens_details.cached_tokens`, `refusal`; Responses
`output_tokens_details.reasoning_tokens`; Anthropic `thinking` blocks, `cache_creation_input_tokens`,
`cache_read_input_tokens`, `output_tokens_details.thinking_tokens`; the providers' error bodies and SSE sequences).
"""

from __future__ import annotations

import base64
import copy
import json
import struct
from collections.abc import Callable, Iterable
from typing import Any

import anthropic
import httpx2
import openai

OPENAI_MODEL = "gpt-5.4-mini"
OPENAI_RESPONSE_MODEL = "gpt-5.4-mini-2026-03-17"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
ANTHROPIC_RESPONSE_MODEL = "claude-sonnet-4-6"
OPENAI_KEY = "sk-proj-TESTKEYabcdefghijklmnop0123456789"
ANTHROPIC_KEY = "sk-ant-api03-TESTKEYabcdefghijklmnop0123456789"

USER_MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


# -- OpenAI Chat Completions ------------------------------------------------------------------------------------------
def chat_completion(
    content: str | None = "The capital of France is Paris.",
    *,
    refusal: str | None = None,
    finish_reason: str = "stop",
    usage: Any = "default",
    cid: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
    tool_calls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion",
        "created": 1741569952,
        "model": OPENAI_RESPONSE_MODEL,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
    }
    if usage == "default":
        usage = chat_usage()
    if usage is not _OMIT:
        body["usage"] = usage
    return body


def chat_usage(prompt: int = 1117, completion: int = 146, cached: int = 1024, reasoning: int = 64) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


_OMIT: Any = _Omit()
OMIT: Any = _OMIT


def chat_chunks(
    pieces: Iterable[str] = ("The", " capital", " is", " Paris", "."),
    *,
    with_usage: bool = True,
    cid: str = "chatcmpl-stream-123",
    refusal: str | None = None,
) -> list[dict[str, Any]]:
    base = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": OPENAI_RESPONSE_MODEL,
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
            **({"usage": None} if with_usage else {}),
        }
    ]
    if refusal is not None:
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"refusal": refusal}, "logprobs": None, "finish_reason": None}],
                **({"usage": None} if with_usage else {}),
            }
        )
    for piece in pieces:
        chunks.append(
            {
                **base,
                "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None, "finish_reason": None}],
                **({"usage": None} if with_usage else {}),
            }
        )
    chunks.append(
        {
            **base,
            "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
            **({"usage": None} if with_usage else {}),
        }
    )
    if with_usage:
        chunks.append({**base, "choices": [], "usage": chat_usage(prompt=19, completion=10, cached=0, reasoning=0)})
    return chunks


def openai_sse(chunks: Iterable[dict[str, Any]]) -> bytes:
    """Chat Completions SSE: `data:` lines only, ended by `data: [DONE]`."""
    out = [f"data: {json.dumps(chunk)}\n\n" for chunk in chunks]
    out.append("data: [DONE]\n\n")
    return "".join(out).encode()


# -- OpenAI Responses -------------------------------------------------------------------------------------------------
def response_object(
    text: str = "Paris is the capital of France.",
    *,
    status: str = "completed",
    usage: Any = "default",
    rid: str = "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
    reasoning: bool = True,
) -> dict[str, Any]:
    output: list[dict[str, Any]] = []
    if reasoning:
        output.append({"id": "rs_67ccd2bf17f0819081ff3bb2cf6508e6", "type": "reasoning", "summary": []})
    output.append(
        {
            "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
        }
    )
    body: dict[str, Any] = {
        "id": rid,
        "object": "response",
        "created_at": 1741476542,
        "status": status,
        "completed_at": 1741476543,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": OPENAI_RESPONSE_MODEL,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": "medium", "summary": None},
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "user": None,
        "metadata": {},
    }
    if usage == "default":
        usage = responses_usage()
    if usage is not _OMIT:
        body["usage"] = usage
    return body


def responses_usage(
    inp: int = 328, out: int = 52, cached: int = 256, reasoning: int = 32, cache_write: int = 40
) -> dict[str, Any]:
    return {
        "input_tokens": inp,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": cache_write},
        "output_tokens": out,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": inp + out,
    }


def response_events(pieces: Iterable[str] = ("Paris", " is", " the", " capital.")) -> list[tuple[str, dict[str, Any]]]:
    """The documented event sequence of a streamed Response (text output, one message item)."""
    pieces = list(pieces)
    final = response_object("".join(pieces), reasoning=False)
    started = {**copy.deepcopy(final), "status": "in_progress", "output": [], "usage": None, "completed_at": None}
    item_id = final["output"][0]["id"]
    events: list[tuple[str, dict[str, Any]]] = []
    seq = 0

    def add(kind: str, **fields: Any) -> None:
        nonlocal seq
        events.append((kind, {"type": kind, "sequence_number": seq, **fields}))
        seq += 1

    add("response.created", response=started)
    add("response.in_progress", response=started)
    add(
        "response.output_item.added",
        output_index=0,
        item={"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []},
    )
    add(
        "response.content_part.added",
        item_id=item_id,
        output_index=0,
        content_index=0,
        part={"type": "output_text", "text": "", "annotations": [], "logprobs": []},
    )
    for piece in pieces:
        add("response.output_text.delta", item_id=item_id, output_index=0, content_index=0, delta=piece, logprobs=[])
    add(
        "response.output_text.done", item_id=item_id, output_index=0, content_index=0, text="".join(pieces), logprobs=[]
    )
    add(
        "response.content_part.done",
        item_id=item_id,
        output_index=0,
        content_index=0,
        part={"type": "output_text", "text": "".join(pieces), "annotations": [], "logprobs": []},
    )
    add("response.output_item.done", output_index=0, item=final["output"][0])
    add("response.completed", response=final)
    return events


def named_sse(events: Iterable[tuple[str, dict[str, Any]]]) -> bytes:
    """SSE with `event:` names (Responses API and Anthropic)."""
    return "".join(f"event: {kind}\ndata: {json.dumps(data)}\n\n" for kind, data in events).encode()


# -- OpenAI embeddings ------------------------------------------------------------------------------------------------
EMBEDDING = [0.0023064255, -0.009327292, 0.015797347]


def embedding_response(base64_encoded: bool = False) -> dict[str, Any]:
    vector: Any = EMBEDDING
    if base64_encoded:  # what the SDK asks for when the caller gives no encoding_format
        vector = base64.b64encode(struct.pack(f"<{len(EMBEDDING)}f", *EMBEDDING)).decode()
    return {
        "object": "list",
        "data": [{"object": "embedding", "embedding": vector, "index": 0}],
        "model": "text-embedding-3-small",
        "usage": {"prompt_tokens": 8, "total_tokens": 8},
    }


# -- Anthropic Messages -----------------------------------------------------------------------------------------------
def anthropic_usage(
    inp: int = 2095, out: int = 503, cache_write: int = 1500, cache_read: int = 3000, thinking: int | None = 312
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": inp,
        "output_tokens": out,
        "cache_creation_input_tokens": cache_write,
        "cache_read_input_tokens": cache_read,
        "cache_creation": {"ephemeral_5m_input_tokens": cache_write, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": None,
        "service_tier": "standard",
    }
    if thinking is not None:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    return usage


def anthropic_message(
    text: str = "The capital of France is Paris.",
    *,
    thinking: bool = True,
    stop_reason: str = "end_turn",
    usage: Any = "default",
    mid: str = "msg_013Zva2CMHLNnXjNJJKqJ2EF",
) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    if thinking:
        content.append(
            {
                "type": "thinking",
                "thinking": "The user asks about France; the capital is Paris.",
                "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
            }
        )
    if text:
        content.append({"type": "text", "text": text, "citations": None})
    body: dict[str, Any] = {
        "id": mid,
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_RESPONSE_MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }
    if usage == "default":
        usage = anthropic_usage()
    if usage is not _OMIT:
        body["usage"] = usage
    return body


def anthropic_events(
    pieces: Iterable[str] = ("The capital", " of France", " is Paris."),
    *,
    thinking: bool = True,
    stop_reason: str = "end_turn",
) -> list[tuple[str, dict[str, Any]]]:
    """The documented Messages stream: message_start, ping, blocks (thinking, then text), message_delta, stop."""
    pieces = list(pieces)
    start_usage = {
        "input_tokens": 2095,
        "output_tokens": 1,
        "cache_creation_input_tokens": 1500,
        "cache_read_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1500, "ephemeral_1h_input_tokens": 0},
        "service_tier": "standard",
    }
    events: list[tuple[str, dict[str, Any]]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01StreamAbCdEfGhIjKlMnOp",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": ANTHROPIC_RESPONSE_MODEL,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        ),
        ("ping", {"type": "ping"}),
    ]
    index = 0
    if thinking:
        events += [
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "thinking_delta", "thinking": "France's capital..."},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "signature_delta", "signature": "EqQBCgIYAhIM1gbcDa9G"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": index}),
        ]
        index += 1
    events.append(
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": index,
                "content_block": {"type": "text", "text": "", "citations": None},
            },
        )
    )
    for piece in pieces:
        events.append(
            (
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
            )
        )
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": index}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {
                    "output_tokens": 503,
                    "input_tokens": 2095,
                    "cache_creation_input_tokens": 1500,
                    "cache_read_input_tokens": 3000,
                    "output_tokens_details": {"thinking_tokens": 312},
                },
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


# -- error bodies -----------------------------------------------------------------------------------------------------
def openai_error(status: int) -> dict[str, Any]:
    if status == 429:
        return {
            "error": {
                "message": "Rate limit reached for gpt-5.4-mini in organization org-abc on tokens per min "
                "(TPM): Limit 30000, Used 29800, Requested 1200.",
                "type": "tokens",
                "param": None,
                "code": "rate_limit_exceeded",
            }
        }
    return {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


def anthropic_error(status: int) -> dict[str, Any]:
    kind = {400: "invalid_request_error", 429: "rate_limit_error", 500: "api_error", 529: "overloaded_error"}[status]
    message = {
        429: "Number of request tokens has exceeded your per-minute rate limit",
        500: "Internal server error",
        529: "Overloaded",
        400: "invalid request",
    }[status]
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy"}


# -- serving ----------------------------------------------------------------------------------------------------------
Route = Callable[[httpx2.Request], httpx2.Response]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


def lazy_json_response(body: Any, *, chunk_size: int = 64) -> httpx2.Response:
    """A JSON response whose body arrives in network reads, unread until the client reads it (as on the wire)."""
    data = json.dumps(body).encode()
    pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
    return httpx2.Response(200, headers={"content-type": "application/json"}, stream=_ByteStream(pieces))


def sse_response(data: bytes, *, chunk_size: int | None = None) -> httpx2.Response:
    """An SSE response; `chunk_size` splits the bytes into several network reads (a real stream arrives in pieces)."""
    headers = {"content-type": "text/event-stream"}
    if chunk_size:
        pieces = [data[i : i + chunk_size] for i in range(0, len(data), chunk_size)]
        return httpx2.Response(200, headers=headers, stream=_ByteStream(pieces))
    return httpx2.Response(200, headers=headers, content=data)


class _ByteStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    def __init__(self, pieces: list[bytes]) -> None:
        self._pieces = pieces

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self._pieces

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for piece in self._pieces:
            yield piece


class Server:
    """Answers each request from a route table keyed by (method, path); records the requests it saw."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Route] = {}
        self.requests: list[httpx2.Request] = []

    def on(self, path: str, route: Route | Any, method: str = "POST") -> Server:
        """`route`: a callable, or a JSON body to serve with 200."""
        if not callable(route):
            body = route
            route = lambda request: json_response(body)
        self.routes[(method, path)] = route
        return self

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        if route is None:
            return json_response({"error": {"message": f"no route {request.url.path}"}}, 404)
        return route(request)

    def body(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[index].content)

    @staticmethod
    def body_of(request: httpx2.Request) -> dict[str, Any]:
        try:
            body = json.loads(request.content)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def wants_stream(self, request: httpx2.Request) -> bool:
        return bool(self.body_of(request).get("stream"))


def openai_server(
    *,
    chat: Any = None,
    chat_stream: bytes | None = None,
    responses: Any = None,
    responses_stream: bytes | None = None,
    embeddings: Any = None,
) -> Server:
    server = Server()

    def either(body: Any, stream: bytes | None) -> Route:
        def route(request: httpx2.Request) -> httpx2.Response:
            if server.wants_stream(request):
                return sse_response(stream if stream is not None else b"", chunk_size=97)
            return json_response(body)

        return route

    server.on(
        "/v1/chat/completions",
        either(
            chat if chat is not None else chat_completion(),
            chat_stream if chat_stream is not None else openai_sse(chat_chunks()),
        ),
    )
    server.on(
        "/v1/responses",
        either(
            responses if responses is not None else response_object(),
            responses_stream if responses_stream is not None else named_sse(response_events()),
        ),
    )
    server.on(
        "/v1/embeddings",
        embeddings
        if embeddings is not None
        else (
            lambda request: json_response(
                embedding_response(server.body_of(request).get("encoding_format") == "base64")
            )
        ),
    )
    return server


def anthropic_server(*, message: Any = None, stream: bytes | None = None) -> Server:
    server = Server()
    body = message if message is not None else anthropic_message()
    data = stream if stream is not None else named_sse(anthropic_events())

    def route(request: httpx2.Request) -> httpx2.Response:
        if server.wants_stream(request):
            return sse_response(data, chunk_size=89)
        return json_response(body)

    server.on("/v1/messages", route)
    return server


def openai_client(server: Server, *, is_async: bool = False, **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", OPENAI_KEY)
    if is_async:
        return openai.AsyncOpenAI(
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(server.handle)), **kwargs
        )
    return openai.OpenAI(http_client=httpx2.Client(transport=httpx2.MockTransport(server.handle)), **kwargs)


def anthropic_client(server: Server, *, is_async: bool = False, **kwargs: Any) -> Any:
    kwargs.setdefault("api_key", ANTHROPIC_KEY)
    if is_async:
        return anthropic.AsyncAnthropic(
            http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(server.handle)), **kwargs
        )
    return anthropic.Anthropic(http_client=httpx2.Client(transport=httpx2.MockTransport(server.handle)), **kwargs)


# -- driving sync and async clients with one scenario -----------------------------------------------------------------
class Drive:
    """Lets one `async def` scenario drive a sync or an async client: `await d(x)` awaits only async results,
    `await d.drain(stream)` collects a sync or async iterator, `async with d.enter(cm)` enters either kind."""

    def __init__(self, is_async: bool) -> None:
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def __call__(self, value: Any) -> Any:
        return await value if self.is_async else value

    async def drain(self, iterable: Any) -> list[Any]:
        if self.is_async:
            return [item async for item in iterable]
        return list(iterable)

    def enter(self, manager: Any) -> Any:
        return manager if self.is_async else _AsyncAdapter(manager)


class _AsyncAdapter:
    def __init__(self, manager: Any) -> None:
        self._manager = manager

    async def __aenter__(self) -> Any:
        return self._manager.__enter__()

    async def __aexit__(self, *exc: Any) -> Any:
        return self._manager.__exit__(*exc)
