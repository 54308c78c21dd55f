"""One inference span per call beside other GenAI instrumentations, installed for real (issue 10 item 4).

Each of the official `opentelemetry-instrumentation-genai-openai` / `-anthropic` (opentelemetry-util-genai, the
semconv-genai PR #475 context key), OpenLLMetry (`opentelemetry-instrumentation-openai` / `-anthropic`) and
OpenInference (`openinference-instrumentation-openai` / `-anthropic`) is instrumented before and after otel-agent;
the real SDKs run over `httpx2.MockTransport`. A call gives one inference span, carrying our turn, run and cost
attributes, and the `gen_ai.client.*` metrics once.

Not installed here (see docs/coexistence.md): `opentelemetry-instrumentation-openai-v2` (pins
opentelemetry-instrumentation ~=0.60, incompatible with the 0.64+ the official GenAI packages need; it is the
official package's predecessor), OpenLIT (openai<3), pydantic-ai and LiteLLM (large; LiteLLM's callback creates its
span after the call, where nothing can see it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.trace import SpanKind

import otel_agent

from .payloads import (
    USER_MESSAGES,
    anthropic_client,
    anthropic_server,
    openai_client,
    openai_server,
)

MSGS = USER_MESSAGES


def _official_openai() -> Any:
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _official_anthropic() -> Any:
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor()


def _openllmetry_openai() -> Any:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _openllmetry_anthropic() -> Any:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor()


def _openinference_openai() -> Any:
    from openinference.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor()


def _openinference_anthropic() -> Any:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor()


# name -> (instrumentor factory, provider, whether it records the conventions' metrics itself)
OTHERS: dict[str, tuple[Callable[[], Any], str, bool]] = {
    "official-genai-openai": (_official_openai, "openai", True),
    "official-genai-anthropic": (_official_anthropic, "anthropic", True),
    "openllmetry-openai": (_openllmetry_openai, "openai", True),
    "openllmetry-anthropic": (_openllmetry_anthropic, "anthropic", True),
    "openinference-openai": (_openinference_openai, "openai", False),
    "openinference-anthropic": (_openinference_anthropic, "anthropic", False),
}


def _inference_spans(telemetry: Any) -> list[Any]:
    """Spans that stand for the model call, whoever made them (not HTTP or run spans)."""
    found = []
    for span in telemetry.spans():
        attributes = span.attributes or {}
        if attributes.get("openinference.span.kind") == "LLM" or (
            span.kind is SpanKind.CLIENT and attributes.get("gen_ai.operation.name") == "chat"
        ):
            found.append(span)
    return found


def _duration_points(telemetry: Any) -> int:
    """`gen_ai.client.operation.duration` observations summed over every instrumentation's scope."""
    data = telemetry.reader.get_metrics_data()
    total = 0
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == "gen_ai.client.operation.duration":
                    total += sum(p.count for p in metric.data.data_points)
    return total


def _call(provider: str, stream: bool) -> None:
    if provider == "openai":
        client = openai_client(openai_server())
        if stream:
            list(
                client.chat.completions.create(
                    model="gpt-4o-mini", messages=MSGS, stream=True, stream_options={"include_usage": True}
                )
            )
        else:
            client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    else:
        client = anthropic_client(anthropic_server())
        kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": MSGS}
        if stream:
            list(client.messages.create(stream=True, **kwargs))
        else:
            client.messages.create(**kwargs)


_CHILD = "OTEL_AGENT_TEST_COEXIST_WITH"


def test_one_inference_span_beside_each_instrumentation() -> None:
    """Each instrumentation and order in a process of its own (run side by side): uninstrument() does not undo them
    all (OpenLLMetry 0.62 leaves a wrapper on `Completions.create`), so one would leak into every later test."""
    root = Path(__file__).resolve().parents[2]
    cases = [f"{name}:{first}" for name in OTHERS for first in ("other-first", "otel-agent-first")]
    failures: dict[str, str] = {}
    parallel = max(os.cpu_count() or 1, 2)
    for offset in range(0, len(cases), parallel):
        running = {
            case: subprocess.Popen(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_in_child"],
                cwd=root,
                env={**os.environ, _CHILD: case},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for case in cases[offset : offset + parallel]
        }
        for case, process in running.items():
            output, _ = process.communicate(timeout=300)
            if process.returncode != 0 or "1 passed" not in output:
                failures[case] = output[-3000:]
    assert not failures, "\n\n".join(f"== {case}\n{out}" for case, out in failures.items())


def test_in_child(instrument_with: Any) -> None:
    """One instrumentation beside otel-agent, in the order given: a call and a stream each give one inference span
    with our attributes and the duration metric once; with `join_inference_spans=False` both spans, as before."""
    if _CHILD not in os.environ:
        pytest.skip("runs in a process of its own: see test_one_inference_span_beside")
    name, first = os.environ[_CHILD].split(":")
    factory, provider, _records_metrics = OTHERS[name]
    instrumentor = factory()
    telemetry = instrument_with(trajectories=True, cost=True)
    if first == "other-first":
        otel_agent.uninstrument()
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
        otel_agent.instrument(
            tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider, **telemetry.options
        )
    else:
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)

    for stream, points in ((False, 1), (True, 2)):  # points: the duration metric's count so far
        telemetry.clear()
        _call(provider, stream)
        spans = _inference_spans(telemetry)
        assert len(spans) == 1, [(s.name, s.instrumentation_scope.name) for s in telemetry.spans()]
        attributes = spans[0].attributes
        assert spans[0].instrumentation_scope.name != "otel_agent"  # theirs, enriched: no second span of ours
        assert attributes["otel_agent.run.id"]
        assert attributes["otel_agent.turn.index"] == 1
        assert attributes["otel_agent.turn.wasted"] is False
        assert attributes["gen_ai.usage.cost.source"] == "local"
        assert _duration_points(telemetry) == points  # once per call, whoever records it
        assert "otel_agent.turns" in telemetry.metrics()

    otel_agent.uninstrument()
    otel_agent.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **{**telemetry.options, "join_inference_spans": False},
    )
    telemetry.clear()
    _call(provider, False)
    assert len(_inference_spans(telemetry)) == 2  # turned off: ours opens its own span beside theirs
    assert len(telemetry.inference_spans()) == 1


def test_our_span_marks_the_context_for_inner_instrumentations(telemetry: Any) -> None:
    """While our span is current the PR #475 key is set, so an instrumentation inside the call can see it."""
    from opentelemetry import context as otel_context

    from otel_agent.telemetry.coexist import INFERENCE_CONTEXT_KEY

    seen: list[Any] = []
    server = openai_server()
    route = server.routes[("POST", "/v1/chat/completions")]

    def spy(request: Any) -> Any:
        seen.append(otel_context.get_value(INFERENCE_CONTEXT_KEY))
        return route(request)

    server.on("/v1/chat/completions", spy)
    openai_client(server).chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    assert seen and seen[0] is not None
    assert otel_context.get_value(INFERENCE_CONTEXT_KEY) is None  # and only during the call
