"""Message content: off by default, opt-in by the GenAI variable, capped in size, and never carrying secrets.

Responses are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from . import payloads as p

CONTENT_KEYS = ("gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions")
LEAKED = "sk-proj-LEAKEDabcdefghijklmnopqrstuvwxyz0123"
SECRETS = (p.OPENAI_KEY, p.ANTHROPIC_KEY, LEAKED, "LEAKEDabcdefghij", "TESTKEYabcdefghij")


def _every_attribute(telemetry: Any) -> list[tuple[str, str]]:
    """Every (key, value as text) of every span, its resource and its events; span and event names too."""
    found: list[tuple[str, str]] = []
    for span in telemetry.spans():
        found.append(("<span name>", span.name))
        found.append(("<status>", span.status.description or ""))
        for attrs in [span.attributes or {}, span.resource.attributes] + [e.attributes or {} for e in span.events]:
            for key, value in attrs.items():
                found.append((key, value if isinstance(value, str) else json.dumps(value, default=str)))
        found.extend(("<event name>", e.name) for e in span.events)
    return found


def _every_value(telemetry: Any) -> list[str]:
    return [value for _, value in _every_attribute(telemetry)]


def _assert_no_secrets(telemetry: Any) -> None:
    for key, value in _every_attribute(telemetry):
        for secret in SECRETS:
            assert secret not in value, f"secret in {key}: {value[:200]}"
            assert secret not in key
        assert "bearer " not in value.lower(), f"auth header value in {key}"
        assert not any(header in key.lower() for header in ("authorization", "x-api-key", "api_key", "api-key")), key


def _run_all(d_async: bool = False) -> None:
    """One call of each kind, the messages carrying a leaked key and a system prompt."""
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": f"My key is {LEAKED}, what is the capital of France?"},
    ]
    oa = p.openai_client(p.openai_server(chat=p.chat_completion(f"Do not share {LEAKED}.")))
    oa.chat.completions.create(model=p.OPENAI_MODEL, messages=messages)
    for _ in oa.chat.completions.create(model=p.OPENAI_MODEL, messages=messages, stream=True):
        pass
    oa.responses.create(model=p.OPENAI_MODEL, input=f"key {LEAKED}", instructions="Be terse.")
    an = p.anthropic_client(p.anthropic_server())
    an.messages.create(
        model=p.ANTHROPIC_MODEL,
        max_tokens=64,
        system=f"secret {LEAKED}",
        messages=[{"role": "user", "content": f"My key is {LEAKED}"}],
    )
    with an.messages.stream(
        model=p.ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": LEAKED}]
    ) as stream:
        stream.until_done()


def test_off_by_default(telemetry: Any) -> None:
    _run_all()
    spans = telemetry.inference_spans()
    assert len(spans) == 5
    for span in spans:
        for key in CONTENT_KEYS:
            assert key not in span.attributes
        assert not span.events
    _assert_no_secrets(telemetry)


@pytest.mark.parametrize("value", ["true", "True", "SPAN_ONLY", "span_and_event"])
def test_on_by_the_genai_variable(instrument_with: Any, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    telemetry = instrument_with()
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    client = p.openai_client(p.openai_server())
    client.chat.completions.create(model=p.OPENAI_MODEL, messages=messages)
    attrs = telemetry.one_span().attributes
    inputs = json.loads(attrs["gen_ai.input.messages"])
    assert any("What is the capital of France?" in json.dumps(m) for m in inputs)
    # Chat Completions system messages are chat history: an input message of role system, by the conventions
    assert inputs[0] == {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]}
    assert "gen_ai.system_instructions" not in attrs
    outputs = json.loads(attrs["gen_ai.output.messages"])
    assert "The capital of France is Paris." in json.dumps(outputs)


@pytest.mark.parametrize("value", ["false", "NO_CONTENT", "EVENT_ONLY", "nonsense"])
def test_off_values(instrument_with: Any, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", value)
    telemetry = instrument_with()
    client = p.openai_client(p.openai_server())
    client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    attrs = telemetry.one_span().attributes
    assert not any(key in attrs for key in CONTENT_KEYS)


def test_streams_and_anthropic_capture_output(instrument_with: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "SPAN_ONLY")
    telemetry = instrument_with()
    oa = p.openai_client(p.openai_server())
    for _ in oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
        pass
    an = p.anthropic_client(p.anthropic_server())
    with an.messages.stream(
        model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES, system="Answer briefly."
    ) as stream:
        stream.until_done()
    openai_span, anthropic_span = telemetry.inference_spans()
    assert "The capital is Paris." in openai_span.attributes["gen_ai.output.messages"]
    assert "The capital of France is Paris." in anthropic_span.attributes["gen_ai.output.messages"]
    assert "Answer briefly." in anthropic_span.attributes["gen_ai.system_instructions"]


def test_option_overrides_variable(instrument_with: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry = instrument_with(capture_content=False)
    p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert "gen_ai.input.messages" not in telemetry.one_span().attributes


@pytest.mark.parametrize("cap", [64, 500])
def test_size_cap(instrument_with: Any, monkeypatch: pytest.MonkeyPatch, cap: int) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry = instrument_with(content_max_chars=cap)
    long_text = "lorem ipsum " * 2000
    client = p.openai_client(p.openai_server(chat=p.chat_completion(long_text)))
    client.chat.completions.create(
        model=p.OPENAI_MODEL,
        messages=[{"role": "system", "content": long_text}, {"role": "user", "content": long_text}],
    )
    an = p.anthropic_client(p.anthropic_server(message=p.anthropic_message(long_text)))
    an.messages.create(
        model=p.ANTHROPIC_MODEL, max_tokens=8, system=long_text, messages=[{"role": "user", "content": long_text}]
    )
    found = 0
    for span in telemetry.inference_spans():
        for key in CONTENT_KEYS:
            if key not in span.attributes:
                continue
            found += 1
            text = span.attributes[key]
            assert len(text) <= cap, key
            value = json.loads(text)  # still valid JSON, of the schema's shape
            assert isinstance(value, list)
            if cap >= 500:
                assert value and "...[truncated]" in text, key
    assert found == 5  # input and output of both, and anthropic's system instructions


def test_small_content_is_not_marked_truncated(instrument_with: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry = instrument_with(content_max_chars=10_000)
    p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    attrs = telemetry.one_span().attributes
    assert json.loads(attrs["gen_ai.input.messages"]) == [
        {"role": "user", "parts": [{"type": "text", "content": "What is the capital of France?"}]}
    ]
    assert "truncated" not in attrs["gen_ai.output.messages"]


def test_no_secrets_with_content_off(telemetry: Any) -> None:
    _run_all()
    _assert_no_secrets(telemetry)


@pytest.mark.parametrize("mode", ["true", "SPAN_AND_EVENT"])
def test_no_secrets_with_content_on(instrument_with: Any, monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", mode)
    telemetry = instrument_with()
    _run_all()
    assert len(telemetry.inference_spans()) == 5
    assert any("[REDACTED]" in text for text in _every_value(telemetry)), "the leaked key was captured, masked"
    _assert_no_secrets(telemetry)


def test_no_secrets_in_native_anthropic_spans(instrument_with: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the SDK's own span kept, no span carries the key or auth headers either."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry = instrument_with(suppress_anthropic_native_spans=False)
    an = p.anthropic_client(p.anthropic_server(), open_telemetry={"tracer_provider": telemetry.tracer_provider})
    an.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=[{"role": "user", "content": "hi"}])
    assert len(telemetry.spans()) == 2
    _assert_no_secrets(telemetry)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_no_secrets_in_error_spans(instrument_with: Any, monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    """A gateway that echoes the key in its 401 body: the exception reaches the caller intact, the span masks it."""
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    telemetry = instrument_with()
    if provider == "openai":
        body = {
            "error": {
                "message": f"Incorrect API key provided: {p.OPENAI_KEY}.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            }
        }
        server = p.openai_server()
        server.on("/v1/chat/completions", lambda request: p.json_response(body, 401))
        client = p.openai_client(server, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as caught:
            client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
        assert p.OPENAI_KEY in str(caught.value), "the caller's exception is not altered"
    else:
        body = {
            "type": "error",
            "error": {"type": "authentication_error", "message": f"invalid x-api-key {p.ANTHROPIC_KEY}"},
        }
        server = p.anthropic_server()
        server.on("/v1/messages", lambda request: p.json_response(body, 401))
        client = p.anthropic_client(server, max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=8, messages=p.USER_MESSAGES)
    span = telemetry.one_span()
    assert span.attributes["error.type"] == "401"
    assert [e.name for e in span.events] == ["exception"]
    exception = span.events[0].attributes
    assert "[REDACTED]" in exception["exception.message"] and "[REDACTED]" in exception["exception.stacktrace"]
    assert exception["exception.type"].endswith("AuthenticationError")
    _assert_no_secrets(telemetry)


def test_request_carries_the_key_but_telemetry_does_not(telemetry: Any) -> None:
    """Control: the key really was sent (so its absence from telemetry means something)."""
    seen: list[str] = []
    server = p.openai_server()
    plain = server.routes[("POST", "/v1/chat/completions")]

    def route(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["authorization"])
        return plain(request)

    server.on("/v1/chat/completions", route)
    p.openai_client(server).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    assert seen == [f"Bearer {p.OPENAI_KEY}"]
    _assert_no_secrets(telemetry)
