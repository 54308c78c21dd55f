"""otel-agent never breaks the host: on any payload the instrumented SDK behaves as the uninstrumented SDK does.

Property tests: random malformed or missing usage (and other fields), and SSE streams cut at random byte offsets, give
the same result or the same exception type with and without instrumentation, and every span ends exactly once.
An exception injected into otel-agent's own code leaves the call's result unchanged.
Payloads are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import otel_agent

from . import payloads as p

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**66), 2**66),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)

OPENAI_USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "prompt_tokens_details",
    "completion_tokens_details",
    "cached_tokens",
    "reasoning_tokens",
    "cache_write_tokens",
]
RESPONSES_USAGE_KEYS = [
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "input_tokens_details",
    "output_tokens_details",
    "cached_tokens",
    "reasoning_tokens",
    "cache_write_tokens",
]
ANTHROPIC_USAGE_KEYS = [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens_details",
    "thinking_tokens",
    "cache_creation",
    "server_tool_use",
]


def usages(keys: list[str]) -> st.SearchStrategy[Any]:
    key = st.sampled_from(keys)
    nested = st.dictionaries(key, json_values, max_size=3)
    return st.one_of(st.just(p.OMIT), json_values, st.dictionaries(key, st.one_of(json_values, nested), max_size=6))


TOP_LEVEL = {
    "openai.chat": ["id", "model", "choices", "object", "created"],
    "openai.responses": ["id", "model", "output", "status", "incomplete_details"],
    "anthropic.messages": ["id", "model", "content", "stop_reason", "type"],
}


@contextlib.contextmanager
def uninstrumented(telemetry: Any) -> Iterator[None]:
    otel_agent.uninstrument()
    try:
        yield
    finally:
        otel_agent.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **telemetry.options
        )


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(warnings=False)
    return repr(value)


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", _dump(call())
    except Exception as error:
        return "raised", type(error)


def _non_stream_call(api: str, body: Any) -> Callable[[], Any]:
    if api == "openai.chat":
        client = p.openai_client(p.openai_server(chat=body), max_retries=0)
        return lambda: client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    if api == "openai.responses":
        client = p.openai_client(p.openai_server(responses=body), max_retries=0)
        return lambda: client.responses.create(model=p.OPENAI_MODEL, input="hi")
    client = p.anthropic_client(p.anthropic_server(message=body), max_retries=0)
    return lambda: client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)


def _body(api: str, usage: Any) -> dict[str, Any]:
    if api == "openai.chat":
        return p.chat_completion(usage=usage)
    if api == "openai.responses":
        return p.response_object(usage=usage)
    return p.anthropic_message(usage=usage)


@SETTINGS
@given(data=st.data())
def test_malformed_payloads_behave_as_uninstrumented(module_telemetry: Any, data: st.DataObject) -> None:
    api = data.draw(st.sampled_from(list(TOP_LEVEL)), label="api")
    keys = {"openai.chat": OPENAI_USAGE_KEYS, "openai.responses": RESPONSES_USAGE_KEYS}.get(api, ANTHROPIC_USAGE_KEYS)
    body = _body(api, data.draw(usages(keys), label="usage"))
    body.update(data.draw(st.dictionaries(st.sampled_from(TOP_LEVEL[api]), json_values, max_size=2), label="overrides"))

    with uninstrumented(module_telemetry):
        expected = _outcome(_non_stream_call(api, body))
    module_telemetry.clear()
    got = _outcome(_non_stream_call(api, body))

    assert got == expected
    event(f"{api}: {got[0]}")
    spans = module_telemetry.inference_spans()
    assert len(spans) == 1
    module_telemetry.assert_each_ended_once()
    if got[0] == "ok" and api != "openai.responses":
        attrs = spans[0].attributes
        readable = "gen_ai.usage.input_tokens" in attrs and "gen_ai.usage.output_tokens" in attrs
        assert readable != bool(attrs.get("otel_agent.usage.missing")), dict(attrs)


# -- cut-off streams ------------------------------------------------------------------------------------------------
STREAMS = {
    "openai.chat": lambda: p.openai_sse(p.chat_chunks()),
    "openai.responses": lambda: p.named_sse(p.response_events()),
    "anthropic.messages": lambda: p.named_sse(p.anthropic_events()),
    "anthropic.manager": lambda: p.named_sse(p.anthropic_events()),
}


def _stream_client(source: str, data: bytes, chunk: int, is_async: bool) -> Any:
    server = p.Server()
    path = {"openai.chat": "/v1/chat/completions", "openai.responses": "/v1/responses"}.get(source, "/v1/messages")
    server.on(path, lambda request: p.sse_response(data, chunk_size=chunk))
    if source.startswith("openai"):
        return p.openai_client(server, is_async=is_async, max_retries=0)
    return p.anthropic_client(server, is_async=is_async, max_retries=0)


def _open_stream(source: str, client: Any) -> Any:
    if source == "openai.chat":
        return client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
    if source == "openai.responses":
        return client.responses.create(model=p.OPENAI_MODEL, input="hi", stream=True)
    if source == "anthropic.messages":
        return client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES, stream=True)
    return client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)


def _consume_sync(source: str, data: bytes, chunk: int, how: str, stop_after: int) -> tuple[list[Any], Any]:
    items: list[Any] = []
    try:
        opened = _open_stream(source, _stream_client(source, data, chunk, False))
        if how == "with" or source == "anthropic.manager":
            with opened as stream:
                for item in stream:
                    items.append(_dump(item))
                    if how != "exhaust" and len(items) > stop_after:
                        break
        else:
            stream = opened
            for item in stream:
                items.append(_dump(item))
                if how == "break" and len(items) > stop_after:
                    break
            stream.close()
    except Exception as error:
        return items, type(error)
    return items, None


async def _consume_async(source: str, data: bytes, chunk: int, how: str, stop_after: int) -> tuple[list[Any], Any]:
    items: list[Any] = []
    try:
        client = _stream_client(source, data, chunk, True)
        opened = _open_stream(source, client)
        if source == "anthropic.manager":
            async with opened as stream:
                async for item in stream:
                    items.append(_dump(item))
                    if how != "exhaust" and len(items) > stop_after:
                        break
        elif how == "with":
            async with await opened as stream:
                async for item in stream:
                    items.append(_dump(item))
                    if len(items) > stop_after:
                        break
        else:
            stream = await opened
            async for item in stream:
                items.append(_dump(item))
                if how == "break" and len(items) > stop_after:
                    break
            await stream.close()
    except Exception as error:
        return items, type(error)
    return items, None


STREAM_SETTINGS = settings(SETTINGS, max_examples=8)
GARBAGE = [
    b"",
    b"data: {not json\n\n",
    b"event: message_delta\ndata: [1, 2\n\n",
    b"\xff\xfe\n\n",
    b'data: {"choices": "x", "type": 7}\n\n',
]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("how", ["exhaust", "break", "with"])
@pytest.mark.parametrize("source", list(STREAMS))
@STREAM_SETTINGS
@given(data=st.data())
def test_cut_off_streams_behave_as_uninstrumented(
    module_telemetry: Any, source: str, how: str, is_async: bool, data: st.DataObject
) -> None:
    """The SSE bytes cut at a random offset, optionally with garbage spliced in there, read in random pieces."""
    full = STREAMS[source]()
    cut = data.draw(st.integers(0, len(full)), label="cut")
    garbage = data.draw(st.sampled_from(GARBAGE), label="garbage")
    keep_tail = data.draw(st.booleans(), label="keep_tail")
    chunk = data.draw(st.integers(1, 128), label="chunk")
    stop_after = data.draw(st.integers(0, 12), label="stop_after")
    payload = full[:cut] + garbage + (full[cut:] if keep_tail else b"")

    def run() -> tuple[list[Any], Any]:
        if is_async:
            return asyncio.run(_consume_async(source, payload, chunk, how, stop_after))
        return _consume_sync(source, payload, chunk, how, stop_after)

    with uninstrumented(module_telemetry):
        expected = run()
    module_telemetry.clear()
    got = run()

    assert got == expected
    spans = module_telemetry.inference_spans()
    assert len(spans) == 1
    module_telemetry.assert_each_ended_once()
    attrs = spans[0].attributes
    end = attrs["otel_agent.stream.end"]
    event(f"{end}, {got[1].__name__ if got[1] else 'ok'}")
    assert end in ("completed", "closed_early", "error")
    if got[1] is not None and end == "error":
        assert attrs["error.type"] == got[1].__name__
    if got[1] is None:
        assert "error.type" not in attrs
    assert len(spans[0].events) <= 1, "no span event per chunk"


# -- faults inside otel-agent ---------------------------------------------------------------------------------------
def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected fault in otel-agent")


FAULTS = [
    ("otel_agent.providers.openai.adapter.OpenAIAdapter", "route"),
    ("otel_agent.providers.openai.adapter.OpenAIAdapter", "request"),
    ("otel_agent.providers.openai.adapter.OpenAIAdapter", "response"),
    ("otel_agent.providers.openai.adapter.OpenAIAdapter", "accumulator"),
    ("otel_agent.providers.openai.chat.ChatStreamAccumulator", "add"),
    ("otel_agent.providers.openai.chat.ChatStreamAccumulator", "result"),
    ("otel_agent.providers.anthropic.adapter.AnthropicAdapter", "request"),
    ("otel_agent.providers.anthropic.adapter.AnthropicAdapter", "response"),
    ("otel_agent.providers.anthropic.adapter.AnthropicAdapter", "prepare_options"),
    ("otel_agent.providers.anthropic.messages.MessagesStreamAccumulator", "add"),
    ("otel_agent.providers.anthropic.messages.MessagesStreamAccumulator", "result"),
    ("otel_agent.telemetry.inference.InferenceTelemetry", "start"),
    ("otel_agent.telemetry.inference.InferenceTelemetry", "finish"),
    ("otel_agent.telemetry.inference.InferenceTelemetry", "_record_metrics"),
    ("otel_agent.pipeline.Pipeline", "complete"),
    ("otel_agent.capture.call.InferenceCall", "activate"),
]


def _calls() -> dict[str, Callable[[], Any]]:
    def openai_chat() -> Any:
        client = p.openai_client(p.openai_server())
        return _dump(client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES))

    def openai_stream() -> Any:
        client = p.openai_client(p.openai_server())
        stream = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
        return [_dump(chunk) for chunk in stream]

    def openai_raw() -> Any:
        client = p.openai_client(p.openai_server())
        with client.chat.completions.with_streaming_response.create(
            model=p.OPENAI_MODEL, messages=p.USER_MESSAGES
        ) as raw:
            return _dump(raw.parse())

    def anthropic_create() -> Any:
        client = p.anthropic_client(p.anthropic_server())
        return _dump(client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES))

    def anthropic_stream() -> Any:
        client = p.anthropic_client(p.anthropic_server())
        with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
            return list(stream.text_stream), _dump(stream.get_final_message())

    def anthropic_async() -> Any:
        async def run() -> Any:
            client = p.anthropic_client(p.anthropic_server(), is_async=True)
            async with client.messages.stream(
                model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES
            ) as stream:
                return _dump(await stream.get_final_message())

        return asyncio.run(run())

    return {
        "openai.chat": openai_chat,
        "openai.stream": openai_stream,
        "openai.raw": openai_raw,
        "anthropic.create": anthropic_create,
        "anthropic.stream": anthropic_stream,
        "anthropic.async": anthropic_async,
    }


@pytest.mark.parametrize("target,method", FAULTS, ids=[f"{t.rsplit('.', 1)[1]}.{m}" for t, m in FAULTS])
def test_fault_in_our_code_leaves_result_unchanged(
    telemetry: Any, monkeypatch: pytest.MonkeyPatch, target: str, method: str
) -> None:
    calls = _calls()
    with uninstrumented(telemetry):
        expected = {name: call() for name, call in calls.items()}
    telemetry.clear()
    monkeypatch.setattr(f"{target}.{method}", _boom)
    got = {name: call() for name, call in calls.items()}
    assert got == expected
    telemetry.assert_each_ended_once()
    # every call that started a span also ended it
    assert len(telemetry.inference_spans()) <= len(calls)
