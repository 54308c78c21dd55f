"""LiteLLM with every provider shape it speaks, against a loopback fake server per shape (loopback.py: the stand-in
for the providers' APIs, unreachable here). The payloads are the same documented shapes the SDK tests use: OpenAI
Chat Completions, Anthropic Messages, Gemini `generateContent`, Bedrock Converse (and their streams). LiteLLM reaches
openai through the openai SDK (hooked too: the test checks one span, not two) and the others through its own HTTP
code. LiteLLM's remote price map is not fetched (`LITELLM_LOCAL_MODEL_COST_MAP`): nothing outside can be reached."""

from __future__ import annotations

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import gc
from collections.abc import Iterator
from typing import Any

import litellm
import pytest
from opentelemetry.trace import StatusCode

from . import bedrock_fake as b
from . import gemini_payloads as g
from . import loopback as lb
from . import payloads as p

PROVIDERS = ("openai", "anthropic", "litellm")
MESSAGES = [{"role": "user", "content": "Capital of France?"}]
MANY = tuple(f" w{i}" for i in range(20))
AWS = {"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "aws_secret_access_key": "secret", "aws_region_name": "us-east-1"}


def _handler(method: str, path: str, body: Any) -> lb.Reply:
    stream = isinstance(body, dict) and body.get("stream")
    if path.endswith(":streamGenerateContent?alt=sse"):
        return lb.sse_reply(g.sse(g.stream_events(MANY)))
    if path.endswith(":generateContent"):
        return lb.json_reply(g.generate_response())
    if path.endswith("/converse-stream"):
        return (
            200,
            "application/vnd.amazon.eventstream",
            b"".join(b.event_message(kind, payload) for kind, payload in b.converse_stream_events(MANY)),
        )
    if path.endswith("/converse"):
        return lb.json_reply(b.converse_response())
    if path.endswith("/messages"):
        if stream:
            return lb.sse_reply(p.named_sse(p.anthropic_events(MANY)))
        return lb.json_reply(p.anthropic_message())
    if isinstance(body, dict) and body.get("model") == "missing":
        return lb.json_reply(p.openai_error(404), status=404)
    if stream:
        return lb.sse_reply(p.openai_sse(p.chat_chunks(MANY)))
    return lb.json_reply(p.chat_completion())


@pytest.fixture
def server() -> Iterator[lb.Loopback]:
    with lb.serve(_handler) as server:
        yield server


# model, gen_ai.provider.name, resolved model, extra kwargs, (input, output, reasoning) tokens of the reply
CASES = {
    "openai": ("openai/gpt-4o-mini", "openai", "gpt-4o-mini", {}, (1117, 146, 64)),
    "anthropic": ("anthropic/claude-sonnet-4-5", "anthropic", "claude-sonnet-4-5", {}, (6595, 503, 312)),
    "gemini": ("gemini/gemini-2.5-flash", "gcp.gemini", "gemini-2.5-flash", {}, (1200, 980, 900)),
    "bedrock": ("bedrock/converse/" + b.MODEL, "aws.bedrock", b.MODEL, AWS, (1984, 96, 0)),
}


def _call(server: lb.Loopback, case: str, **kwargs: Any) -> Any:
    model, _, _, extra, _ = CASES[case]
    return litellm.completion(
        model=model, messages=MESSAGES, api_base=server.url, api_key="sk-test-key-0123456789", **extra, **kwargs
    )


@pytest.mark.parametrize("case", list(CASES))
def test_one_span_per_call_with_the_resolved_provider(instrument_with: Any, server: lb.Loopback, case: str) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    result = _call(server, case, temperature=0.2)
    assert result.choices[0].message.content
    span = telemetry.one_span()  # the openai case: LiteLLM's call and the openai SDK's nested one are one span
    _, provider, resolved, _, (inp, out, reasoning) = CASES[case]
    a = span.attributes
    assert a["gen_ai.provider.name"] == provider
    assert a["gen_ai.request.model"] == resolved
    assert a["server.address"] == "127.0.0.1"
    assert a["gen_ai.request.temperature"] == 0.2
    assert a["gen_ai.usage.input_tokens"] == inp and a["gen_ai.usage.output_tokens"] == out
    assert a.get("gen_ai.usage.reasoning.output_tokens") == reasoning
    telemetry.assert_each_ended_once()


@pytest.mark.parametrize("case", list(CASES))
def test_stream_exhaustion(instrument_with: Any, server: lb.Loopback, case: str) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    chunks = list(_call(server, case, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices).strip().startswith(MANY[0].strip())
    span = telemetry.one_span()
    telemetry.assert_each_ended_once()
    assert span.attributes["otel_agent.stream.end"] == "completed"
    assert span.attributes["gen_ai.request.stream"] is True
    assert span.attributes["gen_ai.provider.name"] == CASES[case][1]
    assert span.attributes["gen_ai.usage.output_tokens"] > 0


def test_stream_break_then_close_and_gc(instrument_with: Any, server: lb.Loopback) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    stream = _call(server, "anthropic", stream=True)
    for index, _ in enumerate(stream):
        if index == 1:
            break
    assert telemetry.inference_spans() == []
    stream.close()
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "closed_early"
    telemetry.clear()
    stream = _call(server, "gemini", stream=True)
    next(stream)
    del stream
    gc.collect()
    assert telemetry.one_span().attributes["otel_agent.stream.end"] == "garbage_collected"
    telemetry.assert_each_ended_once()


async def test_acompletion(instrument_with: Any, server: lb.Loopback) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    model, provider, *_ = CASES["openai"]
    await litellm.acompletion(model=model, messages=MESSAGES, api_base=server.url, api_key="sk-test-key-0123456789")
    assert telemetry.one_span().attributes["gen_ai.provider.name"] == provider
    telemetry.clear()
    stream = await litellm.acompletion(
        model=CASES["anthropic"][0], messages=MESSAGES, api_base=server.url, api_key="k", stream=True
    )
    async for _ in stream:
        pass
    span = telemetry.one_span()
    assert span.attributes["otel_agent.stream.end"] == "completed"
    assert span.attributes["gen_ai.provider.name"] == "anthropic"
    telemetry.assert_each_ended_once()


def test_error_passes_through(instrument_with: Any, server: lb.Loopback) -> None:
    telemetry = instrument_with(providers=PROVIDERS)
    with pytest.raises(litellm.NotFoundError):
        litellm.completion(model="openai/missing", messages=MESSAGES, api_base=server.url, api_key="k")
    span = telemetry.one_span()
    assert span.status.status_code is StatusCode.ERROR and span.attributes["error.type"] == "404"


@pytest.mark.parametrize("stream", [False, True])
def test_litellm_cost_is_kept_beside_ours(
    instrument_with: Any, server: lb.Loopback, monkeypatch: Any, stream: bool
) -> None:
    # The fake listens on loopback, which otel-agent prices by GPU time as a local endpoint: the span is given
    # Gemini's host so that it is list-priced as the call it stands in for.
    from otel_agent.providers.litellm import adapter

    monkeypatch.setattr(adapter, "_server", lambda url: ("generativelanguage.googleapis.com", 443))
    telemetry = instrument_with(providers=PROVIDERS, cost=True)
    kwargs: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}} if stream else {}
    result = _call(server, "gemini", **kwargs)
    if stream:
        chunks = list(result)
        litellm_cost = chunks[-1].usage.cost
    else:
        litellm_cost = result._hidden_params["response_cost"]
    a = telemetry.one_span().attributes
    assert litellm_cost > 0
    assert a["otel_agent.cost.client_reported"] == pytest.approx(litellm_cost)
    # ours is computed from genai-prices, not taken over from LiteLLM
    assert a["gen_ai.usage.cost.source"] == "local"
    assert a["otel_agent.cost.price_source"] == "genai-prices"
    assert a["gen_ai.usage.cost.amount"] > 0
