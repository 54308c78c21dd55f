"""GenAI client metrics: token usage and duration with the conventions' bucket boundaries, streaming timings, and
the `otel_agent.tokens` counter by token type (reasoning and cache included).

Responses are served in-process by `httpx2.MockTransport`, which stands in for provider-only fields that the local
model server never produces (reasoning/thinking and cache tokens).
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from . import payloads as p

TOKEN_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]
DURATION_BOUNDS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]


def _points(metrics: dict[str, Any], name: str) -> list[Any]:
    assert name in metrics, sorted(metrics)
    return list(metrics[name].data.data_points)


def _by(points: list[Any], **match: Any) -> list[Any]:
    return [dp for dp in points if all(dp.attributes.get(k.replace("__", ".")) == v for k, v in match.items())]


def _calls() -> None:
    oa = p.openai_client(p.openai_server())
    oa.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    an = p.anthropic_client(p.anthropic_server())
    an.messages.create(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES)


def test_token_usage_histogram(telemetry: Any) -> None:
    _calls()
    metrics = telemetry.metrics()
    metric = metrics["gen_ai.client.token.usage"]
    assert metric.unit == "{token}"
    points = _points(metrics, "gen_ai.client.token.usage")
    for dp in points:
        assert list(dp.explicit_bounds) == TOKEN_BOUNDS
        assert dp.attributes["gen_ai.token.type"] in ("input", "output")
        assert dp.attributes["gen_ai.operation.name"] == "chat"
        assert dp.count == 1
    sums = {(dp.attributes["gen_ai.provider.name"], dp.attributes["gen_ai.token.type"]): dp.sum for dp in points}
    assert sums == {
        ("openai", "input"): 1117,
        ("openai", "output"): 146,
        ("anthropic", "input"): 2095 + 3000 + 1500,
        ("anthropic", "output"): 503,
    }
    openai_input = _by(points, gen_ai__provider__name="openai", gen_ai__token__type="input")[0]
    assert openai_input.attributes["gen_ai.request.model"] == p.OPENAI_MODEL
    assert openai_input.attributes["gen_ai.response.model"] == p.OPENAI_RESPONSE_MODEL
    assert openai_input.attributes["server.address"] == "api.openai.com"
    assert openai_input.attributes["server.port"] == 443
    # 1117 falls in (1024, 4096]: bucket index 6
    assert openai_input.bucket_counts[6] == 1 and sum(openai_input.bucket_counts) == 1


def test_operation_duration_histogram(telemetry: Any) -> None:
    _calls()
    metrics = telemetry.metrics()
    assert metrics["gen_ai.client.operation.duration"].unit == "s"
    points = _points(metrics, "gen_ai.client.operation.duration")
    assert len(points) == 2
    for dp in points:
        assert list(dp.explicit_bounds) == DURATION_BOUNDS
        assert dp.count == 1
        assert 0 <= dp.sum < 30
        assert "error.type" not in dp.attributes
    assert sorted(dp.attributes["gen_ai.provider.name"] for dp in points) == ["anthropic", "openai"]


def test_duration_of_failed_call_has_error_type(telemetry: Any) -> None:
    server = p.openai_server()
    server.on("/v1/chat/completions", lambda request: p.json_response(p.openai_error(429), 429))
    client = p.openai_client(server, max_retries=0)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    metrics = telemetry.metrics()
    (dp,) = _points(metrics, "gen_ai.client.operation.duration")
    assert dp.attributes["error.type"] == "429"
    assert "gen_ai.client.token.usage" not in metrics


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_streaming_timings(telemetry: Any, is_async: bool) -> None:
    pieces = tuple(f" t{i}" for i in range(12))
    server = p.openai_server(chat_stream=p.openai_sse(p.chat_chunks(pieces)))
    client = p.openai_client(server, is_async=is_async)
    chunks = 0
    if is_async:
        stream = await client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True)
        async for _ in stream:
            chunks += 1
    else:
        for _ in client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES, stream=True):
            chunks += 1
    metrics = telemetry.metrics()
    (first,) = _points(metrics, "gen_ai.client.operation.time_to_first_chunk")
    assert metrics["gen_ai.client.operation.time_to_first_chunk"].unit == "s"
    assert first.count == 1 and first.sum >= 0
    assert first.attributes["gen_ai.provider.name"] == "openai"
    per_chunk = _points(metrics, "gen_ai.client.operation.time_per_output_chunk")
    assert chunks > 2
    assert sum(dp.count for dp in per_chunk) == chunks - 1  # the conventions: one point per chunk after the first
    (duration_point,) = _points(metrics, "gen_ai.client.operation.duration")
    assert 0 <= per_chunk[0].sum <= duration_point.sum
    assert metrics["gen_ai.client.operation.time_per_output_chunk"].unit == "s"
    span = telemetry.one_span()
    assert span.attributes["otel_agent.response.chunk_count"] == chunks
    assert span.attributes["otel_agent.response.time_to_first_chunk"] == pytest.approx(first.sum)
    (duration,) = _points(metrics, "gen_ai.client.operation.duration")
    assert duration.sum >= first.sum


def test_anthropic_stream_timings(telemetry: Any) -> None:
    client = p.anthropic_client(p.anthropic_server())
    with client.messages.stream(model=p.ANTHROPIC_MODEL, max_tokens=64, messages=p.USER_MESSAGES) as stream:
        events = len(list(stream))
    metrics = telemetry.metrics()
    assert sum(dp.count for dp in _points(metrics, "gen_ai.client.operation.time_to_first_chunk")) == 1
    per_chunk = sum(dp.count for dp in _points(metrics, "gen_ai.client.operation.time_per_output_chunk"))
    raw_chunks = telemetry.one_span().attributes["otel_agent.response.chunk_count"]
    assert raw_chunks > 2 and per_chunk == raw_chunks - 1 and events >= raw_chunks - 1


def test_no_stream_timings_without_streams(telemetry: Any) -> None:
    _calls()
    metrics = telemetry.metrics()
    assert "gen_ai.client.operation.time_to_first_chunk" not in metrics
    assert "gen_ai.client.operation.time_per_output_chunk" not in metrics


def test_tokens_counter_by_type(telemetry: Any) -> None:
    _calls()
    oa = p.openai_client(p.openai_server())
    oa.responses.create(model=p.OPENAI_MODEL, input="hi")
    metrics = telemetry.metrics()
    assert metrics["otel_agent.tokens"].unit == "{token}"
    points = _points(metrics, "otel_agent.tokens")
    totals: dict[tuple[str, str], int] = {}
    for dp in points:
        key = (dp.attributes["gen_ai.provider.name"], dp.attributes["gen_ai.token.type"])
        totals[key] = totals.get(key, 0) + dp.value
    assert totals == {
        ("openai", "input"): 1117 + 328,
        ("openai", "output"): 146 + 52,
        ("openai", "reasoning"): 64 + 32,
        ("openai", "cache_read"): 1024 + 256,
        ("openai", "cache_write"): 40,
        ("anthropic", "input"): 6595,
        ("anthropic", "output"): 503,
        ("anthropic", "reasoning"): 312,
        ("anthropic", "cache_read"): 3000,
        ("anthropic", "cache_write"): 1500,
    }
    for dp in points:
        assert "gen_ai.response.id" not in dp.attributes, "no ids on metrics (bounded cardinality)"


def test_cumulative_over_calls(telemetry: Any) -> None:
    client = p.openai_client(p.openai_server())
    for _ in range(3):
        client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    metrics = telemetry.metrics()
    (duration,) = _points(metrics, "gen_ai.client.operation.duration")
    assert duration.count == 3
    reasoning = _by(_points(metrics, "otel_agent.tokens"), gen_ai__token__type="reasoning")
    assert sum(dp.value for dp in reasoning) == 3 * 64


def test_missing_usage_records_no_tokens(telemetry: Any) -> None:
    client = p.openai_client(p.openai_server(chat=p.chat_completion(usage=p.OMIT)))
    client.chat.completions.create(model=p.OPENAI_MODEL, messages=p.USER_MESSAGES)
    metrics = telemetry.metrics()
    assert "gen_ai.client.token.usage" not in metrics
    assert len(_points(metrics, "gen_ai.client.operation.duration")) == 1
