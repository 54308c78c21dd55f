"""The conventions' details (issue 10 item 11), with the real openai SDK over `httpx2.MockTransport`."""

from __future__ import annotations

from typing import Any

import pytest

from otel_agent.telemetry import names

from .payloads import USER_MESSAGES, chat_chunks, openai_client, openai_server, openai_sse

MSGS = USER_MESSAGES


def _stream(client: Any) -> list[Any]:
    return list(
        client.chat.completions.create(
            model="gpt-5.4-mini", messages=MSGS, stream=True, stream_options={"include_usage": True}
        )
    )


def test_time_per_output_chunk_is_one_point_per_chunk_after_the_first(telemetry: Any) -> None:
    chunks = _stream(openai_client(openai_server(chat_stream=openai_sse(chat_chunks()))))
    metric = telemetry.metrics()["gen_ai.client.operation.time_per_output_chunk"]
    (point,) = metric.data.data_points
    assert point.count == len(chunks) - 1
    assert list(point.explicit_bounds) == list(names.DURATION_BUCKETS)
    first = telemetry.metrics()["gen_ai.client.operation.time_to_first_chunk"].data.data_points[0]
    assert first.count == 1


def test_openai_service_tier_and_system_fingerprint(telemetry: Any) -> None:
    openai_client(openai_server()).chat.completions.create(model="gpt-5.4-mini", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["openai.response.service_tier"] == "default"
    assert attributes["openai.response.system_fingerprint"] == "fp_06737a9306"
    telemetry.clear()
    _stream(openai_client(openai_server()))
    attributes = telemetry.one_span().attributes
    assert attributes["openai.response.service_tier"] == "default"
    assert attributes["openai.response.system_fingerprint"] == "fp_06737a9306"


@pytest.mark.parametrize("encoding", [None, "float", "base64"])
def test_embeddings_dimension_count(telemetry: Any, encoding: str | None) -> None:
    kwargs: dict[str, Any] = {} if encoding is None else {"encoding_format": encoding}
    openai_client(openai_server()).embeddings.create(model="text-embedding-3-small", input="hi", **kwargs)
    assert telemetry.one_span().attributes["gen_ai.embeddings.dimension.count"] == 3


def test_embedding_calls_open_no_agent_run(instrument_with: Any) -> None:
    telemetry = instrument_with(trajectories=True)
    client = openai_client(openai_server())
    client.embeddings.create(model="text-embedding-3-small", input="hi")
    client.embeddings.create(model="text-embedding-3-small", input="there")
    spans = telemetry.spans()
    assert [s.name for s in spans] == ["embeddings text-embedding-3-small"] * 2
    assert all("otel_agent.run.id" not in (s.attributes or {}) for s in spans)
    import otel_agent

    otel_agent.uninstrument()  # would end any open inferred run
    assert not [s for s in telemetry.spans() if s.name.startswith("invoke_agent")]


def test_latest_conventions_usage_metrics_have_the_documented_instrument_types(
    instrument_with: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    telemetry = instrument_with()
    _stream(openai_client(openai_server()))
    metrics = telemetry.metrics()
    for spec in names.M_LATEST_TOKEN_COUNTERS.values():
        if spec.name in metrics:  # cache and reasoning counters appear only when the usage has them
            assert type(metrics[spec.name].data).__name__ == "Sum" and metrics[spec.name].data.is_monotonic
    assert "gen_ai.client.inference.usage.input_tokens" in metrics
    for spec in names.M_LATEST_OPERATION_TOKENS.values():
        assert type(metrics[spec.name].data).__name__ == "Histogram"
    assert "gen_ai.response.time_to_first_chunk" in telemetry.one_span().attributes
    assert "otel_agent.response.time_to_first_chunk" not in telemetry.one_span().attributes
