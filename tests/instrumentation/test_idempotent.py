"""instrument() is idempotent and reversible; the instrumentors are registered entry points; the semconv opt-in
switches names on a fresh runtime.

Responses are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces (Anthropic cache-creation tokens here).
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

import anthropic._base_client
import openai._base_client
import pytest
import wrapt
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

import otel_agent
from otel_agent.instrumentors import AnthropicInstrumentor, OpenAIInstrumentor

from . import payloads as p
from .conftest import DEFAULT_OPTIONS

CLIENT_CLASSES = [
    openai._base_client.SyncAPIClient,
    openai._base_client.AsyncAPIClient,
    anthropic._base_client.SyncAPIClient,
    anthropic._base_client.AsyncAPIClient,
]


def _one_call_each() -> None:
    p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    p.anthropic_client(p.anthropic_server()).messages.create(
        model=p.ANTHROPIC_MODEL, max_tokens=8, messages=p.USER_MESSAGES
    )


def _is_wrapped(cls: Any) -> bool:
    return hasattr(cls.__dict__["request"], "__wrapped__")


def test_instrument_twice_gives_one_span_per_call(telemetry: Any) -> None:
    otel_agent.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **telemetry.options
    )
    otel_agent.instrument(**telemetry.options)  # no providers: still the first runtime's
    _one_call_each()
    assert [s.attributes["gen_ai.provider.name"] for s in telemetry.inference_spans()] == ["openai", "anthropic"]
    for cls in CLIENT_CLASSES:
        assert _is_wrapped(cls) and not hasattr(cls.__dict__["request"].__wrapped__, "__wrapped__"), "wrapped once"


def test_instrumentors_called_directly_after_instrument(telemetry: Any) -> None:
    """`opentelemetry-instrument` style activation on top of `otel_agent.instrument()` adds nothing."""
    OpenAIInstrumentor().instrument()
    AnthropicInstrumentor().instrument()
    _one_call_each()
    assert len(telemetry.inference_spans()) == 2


def test_uninstrument_restores_the_sdks(telemetry: Any) -> None:
    assert all(_is_wrapped(cls) for cls in CLIENT_CLASSES)
    otel_agent.uninstrument()
    assert not otel_agent.is_instrumented()
    assert not any(_is_wrapped(cls) for cls in CLIENT_CLASSES)
    _one_call_each()
    assert telemetry.inference_spans() == []
    otel_agent.uninstrument()  # idempotent


def test_instrument_uninstrument_instrument(telemetry: Any) -> None:
    _one_call_each()
    otel_agent.uninstrument()
    _one_call_each()
    otel_agent.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **telemetry.options
    )
    _one_call_each()
    assert len(telemetry.inference_spans()) == 4
    telemetry.assert_each_ended_once()


def test_clients_created_before_instrument_are_recorded() -> None:
    """Patching the base class reaches clients that already exist."""
    from .conftest import _start, _stop

    otel_agent.uninstrument()
    oa = p.openai_client(p.openai_server())
    telemetry = _start()
    try:
        oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
        assert len(telemetry.inference_spans()) == 1
    finally:
        _stop(telemetry)


def test_stream_open_across_uninstrument_still_ends_once(telemetry: Any) -> None:
    client = p.openai_client(p.openai_server())
    stream = client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
    next(stream)
    otel_agent.uninstrument()
    rest = list(stream)
    assert rest
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "completed"
    telemetry.assert_each_ended_once()


def test_entry_points_registered() -> None:
    found = {
        ep.name: ep
        for ep in importlib.metadata.entry_points(group="opentelemetry_instrumentor")
        if ep.value.startswith("otel_agent.")
    }
    assert set(found) == {
        "otel_agent_openai",
        "otel_agent_anthropic",
        "otel_agent_mcp",
        "otel_agent_gemini",
        "otel_agent_bedrock",
        "otel_agent_groq",
        "otel_agent_ollama",
        "otel_agent_litellm",
        "otel_agent_mistral",
    }
    for entry_point in found.values():
        cls = entry_point.load()
        assert isinstance(cls, type) and issubclass(cls, BaseInstrumentor)
        assert cls().instrumentation_dependencies()


def _other(calls: list[int]) -> Any:
    def other(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        calls.append(1)
        return wrapped(*args, **kwargs)

    return other


def test_layered_with_another_wrapper(telemetry: Any) -> None:
    """Another library wrapping `request` on top of ours: one span, and instrumenting again does not wrap twice."""
    calls: list[int] = []
    original = openai._base_client.SyncAPIClient.__dict__["request"]
    wrapt.wrap_function_wrapper(openai._base_client.SyncAPIClient, "request", _other(calls))
    try:
        OpenAIInstrumentor().instrument()
        otel_agent.instrument(**telemetry.options)
        p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
        assert calls == [1]
        assert len(telemetry.inference_spans()) == 1
    finally:
        openai._base_client.SyncAPIClient.request = original


def test_uninstrument_removes_only_our_wrapper(telemetry: Any) -> None:
    calls: list[int] = []
    plain = openai._base_client.SyncAPIClient.__dict__["request"].__wrapped__  # under our wrapper
    wrapt.wrap_function_wrapper(openai._base_client.SyncAPIClient, "request", _other(calls))
    try:
        otel_agent.uninstrument()
        p.openai_client(p.openai_server()).chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
        assert calls == [1], "the other library's wrapper survives our uninstrument()"
    finally:
        openai._base_client.SyncAPIClient.request = plain


@pytest.mark.parametrize("latest", [False, True], ids=["v1.41", "latest"])
def test_semconv_opt_in_switches_cache_write_name(monkeypatch: pytest.MonkeyPatch, latest: bool) -> None:
    from .conftest import _start, _stop

    if latest:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai_latest_experimental")
    telemetry = _start()  # a fresh runtime (uninstrument + instrument) reads the variable
    try:
        client = p.anthropic_client(p.anthropic_server())
        client.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=8, messages=p.USER_MESSAGES)
        attrs = telemetry.one_span().attributes
        new, old = "gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens"
        assert attrs[new if latest else old] == 1500
        assert (old if latest else new) not in attrs
        metrics = telemetry.metrics()
        counter = "gen_ai.client.inference.usage.cache_write.input_tokens"
        assert (counter in metrics) is latest
        if latest:
            assert sum(dp.value for dp in metrics[counter].data.data_points) == 1500
    finally:
        _stop(telemetry)


def test_semconv_opt_in_needs_a_fresh_runtime(telemetry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Setting the variable after instrument() changes nothing until the runtime restarts."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    otel_agent.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **DEFAULT_OPTIONS
    )
    p.anthropic_client(p.anthropic_server()).messages.create(
        model=p.ANTHROPIC_MODEL, max_tokens=8, messages=p.USER_MESSAGES
    )
    assert "gen_ai.usage.cache_creation.input_tokens" in telemetry.one_span().attributes
