"""Errors, refusals and malformed payloads: the SDK's own exception reaches the caller, the span records it.

Error bodies (429/500/529), refusals and malformed usage are served in-process by `httpx2.MockTransport`, which
stands in for provider-only fields and failures that the local model server never produces.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from opentelemetry.trace import StatusCode

import otel_agent

from . import payloads as p
from .payloads import Drive

OPENAI_STATUSES = {429: openai.RateLimitError, 500: openai.InternalServerError, 503: openai.InternalServerError}
ANTHROPIC_STATUSES = {429: anthropic.RateLimitError, 500: anthropic.InternalServerError, 529: anthropic.OverloadedError}


def _failing(server: p.Server, path: str, status: int, body: Any) -> None:
    server.on(path, lambda request: p.json_response(body, status, {"retry-after-ms": "1"}))


def _spy_on_errors(client: Any) -> list[BaseException]:
    """Record every status error the SDK itself builds, so the caller's exception can be compared by identity."""
    made: list[BaseException] = []
    original = client._make_status_error_from_response

    def spy(response: Any) -> Any:
        error = original(response)
        made.append(error)
        return error

    client._make_status_error_from_response = spy
    return made


def _assert_error_span(telemetry: Any, status: int, error: BaseException) -> None:
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    attrs = span.attributes
    assert attrs["error.type"] == str(status)
    assert span.status.status_code is StatusCode.ERROR
    assert "otel_agent.usage.missing" not in attrs, "a failed call is not a call with missing usage"
    exceptions = [e for e in span.events if e.name == "exception"]
    assert len(exceptions) == 1
    assert exceptions[0].attributes["exception.type"].endswith(type(error).__name__)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("status", list(OPENAI_STATUSES))
async def test_openai_status_errors(telemetry: Any, status: int, stream: bool, is_async: bool) -> None:
    server = p.openai_server()
    _failing(server, "/v1/chat/completions", status, p.openai_error(status))
    client = p.openai_client(server, is_async=is_async, max_retries=0)
    made = _spy_on_errors(client)
    with pytest.raises(OPENAI_STATUSES[status]) as caught:
        await Drive(is_async)(
            client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=stream)
        )
    assert made == [caught.value] and caught.value is made[0], "the SDK's own exception object, unchanged"
    assert caught.value.status_code == status
    assert caught.value.body == p.openai_error(status)["error"]
    _assert_error_span(telemetry, status, caught.value)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("status", list(ANTHROPIC_STATUSES))
async def test_anthropic_status_errors(telemetry: Any, status: int, stream: bool, is_async: bool) -> None:
    server = p.anthropic_server()
    _failing(server, "/v1/messages", status, p.anthropic_error(status))
    client = p.anthropic_client(server, is_async=is_async, max_retries=0)
    made = _spy_on_errors(client)
    d = Drive(is_async)
    with pytest.raises(ANTHROPIC_STATUSES[status]) as caught:
        if stream:
            async with d.enter(
                client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)
            ) as s:
                await d(s.get_final_message())
        else:
            await d(client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES))
    assert caught.value is made[0] and len(made) == 1
    assert caught.value.status_code == status
    assert caught.value.body == p.anthropic_error(status)
    _assert_error_span(telemetry, status, caught.value)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_same_exception_as_uninstrumented(telemetry: Any, provider: str) -> None:
    """Type, status, message and body equal those the uninstrumented SDK raises on the same payload."""

    def failure() -> BaseException:
        if provider == "openai":
            server = p.openai_server()
            _failing(server, "/v1/chat/completions", 429, p.openai_error(429))
            client = p.openai_client(server, max_retries=0)
            call = lambda: client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
        else:
            server = p.anthropic_server()
            _failing(server, "/v1/messages", 529, p.anthropic_error(529))
            client = p.anthropic_client(server, max_retries=0)
            call = lambda: client.messages.create(
                model=p.ANTHROPIC_MODEL,
                max_tokens=8,
                messages=p.USER_MESSAGES,
            )
        try:
            call()
        except BaseException as error:
            return error
        raise AssertionError("no error raised")

    instrumented = failure()
    options = telemetry.options
    otel_agent.uninstrument()
    plain = failure()
    otel_agent.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **options)
    assert type(instrumented) is type(plain)
    assert (instrumented.status_code, str(instrumented), instrumented.body) == (
        plain.status_code,
        str(plain),
        plain.body,
    )
    assert instrumented.__traceback__ is not None


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_retried_call_is_one_span(telemetry: Any, is_async: bool) -> None:
    """The SDK's retries happen inside one call: one span, successful, with the final response."""
    attempts: list[int] = []
    server = p.openai_server()

    def flaky(request: httpx2.Request) -> httpx2.Response:
        attempts.append(1)
        if len(attempts) < 3:
            return p.json_response(p.openai_error(429), 429, {"retry-after-ms": "1"})
        return p.json_response(p.chat_completion())

    server.on("/v1/chat/completions", flaky)
    client = p.openai_client(server, is_async=is_async, max_retries=2)
    result = await Drive(is_async)(client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES))
    assert result.usage.prompt_tokens == 1117 and len(attempts) == 3
    span = telemetry.one_span()
    assert "error.type" not in span.attributes
    assert span.status.status_code is StatusCode.UNSET


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_connection_error(telemetry: Any, is_async: bool) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    server = p.openai_server()
    server.on("/v1/chat/completions", refuse)
    client = p.openai_client(server, is_async=is_async, max_retries=0)
    with pytest.raises(openai.APIConnectionError):
        await Drive(is_async)(client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES))
    span = telemetry.one_span()
    assert span.attributes["error.type"] == "APIConnectionError"
    assert span.status.status_code is StatusCode.ERROR


# -- errors inside a stream -------------------------------------------------------------------------------------------
def test_anthropic_error_event_mid_stream(telemetry: Any) -> None:
    events = p.anthropic_events()[:5]
    events.append(
        (
            "error",
            {
                "type": "error",
                "error": {"type": "overloaded_error", "message": "Overloaded"},
                "request_id": "req_011CSHoEeqs5C35K2UUqR7Fy",
            },
        )
    )
    client = p.anthropic_client(p.anthropic_server(stream=p.named_sse(events)), max_retries=0)
    seen: list[Any] = []
    with pytest.raises(anthropic.APIStatusError) as caught:
        with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
            for event in stream:
                seen.append(event)
    assert seen, "events before the error reached the caller"
    assert caught.value.body["error"]["type"] == "overloaded_error"
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] == "error"
    assert span.attributes["error.type"] == "overloaded_error", "not the 200 of the stream's HTTP response"
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["gen_ai.response.id"] == "msg_01StreamAbCdEfGhIjKlMnOp", "what arrived is kept"


def test_openai_error_chunk_mid_stream(telemetry: Any) -> None:
    chunks = p.chat_chunks()[:3]
    data = p.openai_sse(chunks)[: -len(b"data: [DONE]\n\n")]
    data += (
        b'data: {"error": {"message": "The server had an error", "type": "server_error", "param": null, '
        b'"code": null}}\n\n'
    )
    client = p.openai_client(p.openai_server(chat_stream=data), max_retries=0)
    stream = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
    got: list[Any] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            got.append(chunk)
    assert len(got) == 3
    span = telemetry.one_span()
    assert span.attributes["otel_agent.stream.end"] == "error"
    assert span.attributes["error.type"] == "server_error"
    assert span.attributes["otel_agent.response.chunk_count"] == 3
    assert caught.value.message == "The server had an error"


# -- refusals ------------------------------------------------------------------------------------------------------
REFUSAL = "I'm sorry, I can't help with that."


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_openai_chat_refusal(telemetry: Any, is_async: bool) -> None:
    server = p.openai_server(chat=p.chat_completion(None, refusal=REFUSAL))
    client = p.openai_client(server, is_async=is_async)
    result = await Drive(is_async)(client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES))
    assert result.choices[0].message.refusal == REFUSAL and result.choices[0].message.content is None
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.UNSET
    assert tuple(span.attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert span.attributes["gen_ai.usage.output_tokens"] == 146


def test_openai_parse_refusal(telemetry: Any) -> None:
    from pydantic import BaseModel

    class City(BaseModel):
        city: str

    client = p.openai_client(p.openai_server(chat=p.chat_completion(None, refusal=REFUSAL)))
    result = client.chat.completions.parse(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, response_format=City)
    assert result.choices[0].message.parsed is None and result.choices[0].message.refusal == REFUSAL
    assert telemetry.one_span().status.status_code is StatusCode.UNSET


def test_openai_streamed_refusal(telemetry: Any) -> None:
    data = p.openai_sse(p.chat_chunks((), refusal=REFUSAL))
    client = p.openai_client(p.openai_server(chat_stream=data))
    with client.chat.completions.stream(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.refusal == REFUSAL
    span = telemetry.one_span()
    assert span.attributes["otel_agent.stream.end"] == "completed"
    assert span.status.status_code is StatusCode.UNSET


def test_responses_refusal(telemetry: Any) -> None:
    body = p.response_object()
    body["output"][-1]["content"] = [{"type": "refusal", "refusal": REFUSAL}]
    client = p.openai_client(p.openai_server(responses=body))
    result = client.responses.create(model=p.OPENAI_MODEL, input="x")
    assert result.output[-1].content[0].refusal == REFUSAL
    span = telemetry.one_span()
    assert tuple(span.attributes["gen_ai.response.finish_reasons"]) == ("stop",)
    assert span.status.status_code is StatusCode.UNSET


def test_anthropic_refusal(telemetry: Any) -> None:
    body = p.anthropic_message("", thinking=False, stop_reason="refusal")
    body["stop_details"] = {"type": "refusal", "category": "cyber", "explanation": None}
    client = p.anthropic_client(p.anthropic_server(message=body))
    message = client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)
    assert message.stop_reason == "refusal" and message.content == []
    span = telemetry.one_span()
    assert tuple(span.attributes["gen_ai.response.finish_reasons"]) == ("refusal",)
    assert span.status.status_code is StatusCode.UNSET


def test_anthropic_streamed_refusal(telemetry: Any) -> None:
    events = p.anthropic_events(stop_reason="refusal")
    client = p.anthropic_client(p.anthropic_server(stream=p.named_sse(events)))
    with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
        assert stream.get_final_message().stop_reason == "refusal"
    assert tuple(telemetry.one_span().attributes["gen_ai.response.finish_reasons"]) == ("refusal",)


# -- malformed payloads -----------------------------------------------------------------------------------------------
MALFORMED_OPENAI_USAGE: dict[str, Any] = {
    "missing": p.OMIT,
    "null": None,
    "strings": {"prompt_tokens": "twelve", "completion_tokens": "7 tokens", "total_tokens": "19"},
    "null counts": {
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
        "prompt_tokens_details": None,
        "completion_tokens_details": None,
    },
    "not an object": "12 tokens",
    "a list": [1, 2],
    "negative and fractional": {"prompt_tokens": -1, "completion_tokens": 2.5, "total_tokens": 1},
    "details wrong type": {"prompt_tokens": 10, "prompt_tokens_details": "cached", "completion_tokens_details": [1]},
}


@pytest.mark.parametrize("case", list(MALFORMED_OPENAI_USAGE))
def test_openai_malformed_usage(telemetry: Any, case: str) -> None:
    usage = MALFORMED_OPENAI_USAGE[case]
    client = p.openai_client(p.openai_server(chat=p.chat_completion(usage=usage)))
    result = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert result.choices[0].message.content == "The capital of France is Paris."
    span = telemetry.one_span()
    attrs = span.attributes
    assert attrs["otel_agent.usage.missing"] is True
    assert "gen_ai.usage.output_tokens" not in attrs
    assert span.status.status_code is StatusCode.UNSET
    assert attrs["gen_ai.response.id"] == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"


MALFORMED_ANTHROPIC_USAGE: dict[str, Any] = {
    "missing": p.OMIT,
    "null": None,
    "strings": {"input_tokens": "twelve", "output_tokens": "7 tokens"},
    "null counts": {"input_tokens": None, "output_tokens": None, "cache_read_input_tokens": None},
    "not an object": "lots",
    "details wrong type": {"input_tokens": "x", "output_tokens": None, "output_tokens_details": "many"},
}


@pytest.mark.parametrize("case", list(MALFORMED_ANTHROPIC_USAGE))
def test_anthropic_malformed_usage(telemetry: Any, case: str) -> None:
    body = p.anthropic_message(usage=MALFORMED_ANTHROPIC_USAGE[case])
    client = p.anthropic_client(p.anthropic_server(message=body))
    message = client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)
    assert message.id == "msg_013Zva2CMHLNnXjNJJKqJ2EF"
    attrs = telemetry.one_span().attributes
    assert attrs["otel_agent.usage.missing"] is True
    assert "gen_ai.usage.output_tokens" not in attrs


def test_numeric_strings_read_as_the_sdk_reads_them(telemetry: Any) -> None:
    """The SDK coerces "12" to 12 (pydantic lax mode): the span reports what the caller sees."""
    usage = {"prompt_tokens": "12", "completion_tokens": "7", "total_tokens": "19"}
    client = p.openai_client(p.openai_server(chat=p.chat_completion(usage=usage)))
    result = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    attrs = telemetry.one_span().attributes
    assert (
        (attrs["gen_ai.usage.input_tokens"], attrs["gen_ai.usage.output_tokens"])
        == (result.usage.prompt_tokens, result.usage.completion_tokens)
        == (12, 7)
    )
    assert "otel_agent.usage.missing" not in attrs


def test_stream_without_usage_is_missing(telemetry: Any) -> None:
    client = p.openai_client(p.openai_server(chat_stream=p.openai_sse(p.chat_chunks(with_usage=False))))
    for _ in client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
        pass
    attrs = telemetry.one_span().attributes
    assert attrs["otel_agent.usage.missing"] is True
    assert attrs["otel_agent.stream.end"] == "completed"


@pytest.mark.parametrize(
    "body",
    [
        {"id": None, "object": "chat.completion", "choices": None, "model": 42},
        {"choices": [{"index": 0, "message": None, "finish_reason": 7}]},
        {"choices": [None, "x", {"message": {"content": ["not", "text"], "tool_calls": "nope"}}]},
        {},
    ],
    ids=["null fields", "odd types", "odd choices", "empty object"],
)
def test_openai_malformed_body(telemetry: Any, body: dict[str, Any]) -> None:
    client = p.openai_client(p.openai_server(chat=body))
    result = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert type(result).__name__ == "ChatCompletion"
    span = telemetry.one_span()
    assert span.attributes["otel_agent.usage.missing"] is True
    telemetry.assert_each_ended_once()


def test_non_json_body_is_the_sdks_business(telemetry: Any) -> None:
    """A 200 with a non-JSON body: whatever the SDK does without us, it does with us."""

    def run() -> Any:
        server = p.openai_server()
        server.on(
            "/v1/chat/completions",
            lambda request: httpx2.Response(
                200, content=b"<html>gateway</html>", headers={"content-type": "application/json"}
            ),
        )
        client = p.openai_client(server, max_retries=0)
        try:
            return ("ok", client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES))
        except Exception as error:
            return ("error", type(error))

    instrumented = run()
    options = telemetry.options
    otel_agent.uninstrument()
    plain = run()
    otel_agent.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **options)
    assert instrumented[0] == plain[0]
    if plain[0] == "error":
        assert instrumented[1] is plain[1]
    else:
        assert instrumented[1] == plain[1]
    assert len(telemetry.inference_spans()) == 1
    telemetry.assert_each_ended_once()


def test_error_body_is_not_json(telemetry: Any) -> None:
    server = p.openai_server()
    server.on("/v1/chat/completions", lambda request: httpx2.Response(502, content=b"Bad Gateway"))
    client = p.openai_client(server, max_retries=0)
    with pytest.raises(openai.InternalServerError) as caught:
        client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert caught.value.status_code == 502
    assert telemetry.one_span().attributes["error.type"] == "502"
    json.dumps(dict(telemetry.one_span().attributes))  # every attribute value is plain data
