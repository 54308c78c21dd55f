"""gen_ai.usage.cost.source by semconv-genai PR #443 (issue 10 item 3): `local` when otel-agent computed the cost,
`provider` only when the response carried one, which is passed through unchanged.

Real openai SDK over `httpx2.MockTransport`; the mock stands in for OpenRouter (its `usage.cost`) and a LiteLLM
proxy (its `x-litellm-response-cost` header).
"""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest

from .payloads import OPENAI_KEY, USER_MESSAGES, chat_chunks, chat_completion, json_response, openai_sse, sse_response

MSGS = USER_MESSAGES


def _client(handler: Any, base_url: str = "https://openrouter.ai/api/v1") -> openai.OpenAI:
    return openai.OpenAI(
        api_key=OPENAI_KEY, base_url=base_url, http_client=httpx2.Client(transport=httpx2.MockTransport(handler))
    )


def test_a_computed_token_price_is_local(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "gpt-4o-mini"
    _client(lambda r: json_response(body), "https://api.openai.com/v1").chat.completions.create(
        model="gpt-4o-mini", messages=MSGS
    )
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.usage.cost.amount"] > 0
    assert attributes["gen_ai.usage.cost.source"] == "local"


def test_openrouter_usage_cost_is_passed_through_as_provider(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "openai/gpt-4o-mini"
    body["usage"]["cost"] = 0.00123456
    _client(lambda r: json_response(body)).chat.completions.create(model="openai/gpt-4o-mini", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.usage.cost.amount"] == 0.00123456
    assert attributes["gen_ai.usage.cost.source"] == "provider"
    assert attributes["otel_agent.cost.price_source"] == "provider"
    points = telemetry.metrics()["otel_agent.cost"].data.data_points
    assert sum(p.value for p in points) == pytest.approx(0.00123456)
    assert {p.attributes["otel_agent.cost.component"] for p in points} == {"unattributed"}


def test_openrouter_stream_usage_cost_is_provider(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    chunks = chat_chunks()
    chunks[-1]["usage"]["cost"] = 0.0042
    data = openai_sse(chunks)
    client = _client(lambda r: sse_response(data, chunk_size=97))
    list(client.chat.completions.create(model="openai/gpt-4o-mini", messages=MSGS, stream=True))
    attributes = telemetry.one_span().attributes
    assert (attributes["gen_ai.usage.cost.amount"], attributes["gen_ai.usage.cost.source"]) == (0.0042, "provider")


@pytest.mark.parametrize("surface", ["create", "with_raw_response", "stream"])
def test_litellm_proxy_cost_header_is_provider(instrument_with: Any, surface: str) -> None:
    telemetry = instrument_with(cost=True)
    headers = {"x-litellm-response-cost": "0.000777"}

    def handle(request: httpx2.Request) -> httpx2.Response:
        if b'"stream":true' in request.content.replace(b" ", b""):
            response = sse_response(openai_sse(chat_chunks()))
            response.headers.update(headers)
            return response
        return json_response(chat_completion(), headers=headers)

    client = _client(handle, "http://litellm-proxy.internal:4000")
    if surface == "create":
        client.chat.completions.create(model="claude-sonnet-4-6", messages=MSGS)
    elif surface == "with_raw_response":
        client.chat.completions.with_raw_response.create(model="claude-sonnet-4-6", messages=MSGS).parse()
    else:
        list(client.chat.completions.create(model="claude-sonnet-4-6", messages=MSGS, stream=True))
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.usage.cost.amount"] == 0.000777
    assert attributes["gen_ai.usage.cost.source"] == "provider"


@pytest.mark.parametrize("bad", ["NaN", "-1", "inf", "lots", "1e400"])
def test_an_unreadable_reported_cost_is_ignored(instrument_with: Any, bad: str) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "gpt-4o-mini"
    client = _client(
        lambda r: json_response(body, headers={"x-litellm-response-cost": bad}), "https://api.openai.com/v1"
    )
    client.chat.completions.create(model="gpt-4o-mini", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.usage.cost.source"] == "local"
