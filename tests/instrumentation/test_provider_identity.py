"""gen_ai.provider.name from the client actually used, and pricing by it (issue 10 items 1 and 2).

Real openai / anthropic SDK clients over `httpx2.MockTransport`; the mock stands in for Azure, Groq, OpenRouter,
Vertex and a self-hosted server, which cannot be reached from the tests.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import openai
import pytest

from otel_agent.providers.identity import HOST_PROVIDERS, provider_for_host

from .payloads import (
    ANTHROPIC_KEY,
    OPENAI_KEY,
    USER_MESSAGES,
    anthropic_message,
    chat_completion,
    json_response,
)

MSGS = USER_MESSAGES


def _chat_handler(body: dict[str, Any]) -> Any:
    def handle(request: httpx2.Request) -> httpx2.Response:
        return json_response(body)

    return handle


def _transport(body: dict[str, Any]) -> httpx2.Client:
    return httpx2.Client(transport=httpx2.MockTransport(_chat_handler(body)))


def _openai_at(base_url: str, body: dict[str, Any] | None = None) -> openai.OpenAI:
    return openai.OpenAI(api_key=OPENAI_KEY, base_url=base_url, http_client=_transport(body or chat_completion()))


@pytest.mark.parametrize(
    ("base_url", "provider", "address", "port"),
    [
        ("https://api.groq.com/openai/v1", "groq", "api.groq.com", 443),
        ("https://api.deepseek.com/v1", "deepseek", "api.deepseek.com", 443),
        (
            "https://generativelanguage.googleapis.com/v1beta/openai/",
            "gcp.gemini",
            "generativelanguage.googleapis.com",
            443,
        ),
        ("https://openrouter.ai/api/v1", "openrouter", "openrouter.ai", 443),
        ("https://api.mistral.ai/v1", "mistral_ai", "api.mistral.ai", 443),
        ("https://api.x.ai/v1", "x_ai", "api.x.ai", 443),
        ("https://api.perplexity.ai", "perplexity", "api.perplexity.ai", 443),
        ("https://api.together.xyz/v1", "together", "api.together.xyz", 443),
        ("https://api.fireworks.ai/inference/v1", "fireworks", "api.fireworks.ai", 443),
        ("https://myres.openai.azure.com/openai/v1/", "azure.ai.openai", "myres.openai.azure.com", 443),
        ("http://vllm.internal:8000/v1", "openai", "vllm.internal", 8000),  # self-hosted: the wire format's name
        ("https://api.openai.com/v1", "openai", "api.openai.com", 443),
    ],
)
def test_openai_sdk_at_a_compatible_host_names_that_provider(
    telemetry: Any, base_url: str, provider: str, address: str, port: int
) -> None:
    _openai_at(base_url).chat.completions.create(model="some-model", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.provider.name"] == provider
    assert (attributes["server.address"], attributes["server.port"]) == (address, port)
    points = telemetry.metrics()["gen_ai.client.operation.duration"].data.data_points
    assert {p.attributes["gen_ai.provider.name"] for p in points} == {provider}


@pytest.mark.parametrize("is_async", [False, True])
async def test_azure_openai_client_is_azure(telemetry: Any, is_async: bool) -> None:
    kwargs: dict[str, Any] = {
        "api_key": OPENAI_KEY,
        "api_version": "2024-10-21",
        "azure_endpoint": "https://contoso.openai.azure.com",
    }
    if is_async:
        handler = _chat_handler(chat_completion())
        client: Any = openai.AsyncAzureOpenAI(
            **kwargs, http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
        )
        await client.chat.completions.create(model="my-deployment", messages=MSGS)
    else:
        client = openai.AzureOpenAI(**kwargs, http_client=_transport(chat_completion()))
        client.chat.completions.create(model="my-deployment", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert attributes["server.address"] == "contoso.openai.azure.com"


def test_anthropic_vertex_client_is_vertex(telemetry: Any) -> None:
    seen: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        return json_response(anthropic_message())

    client = anthropic.AnthropicVertex(
        region="us-east5",
        project_id="proj",
        access_token="ya29.test-token",  # no google-auth round trip
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS)
    assert seen and seen[0].endswith(":rawPredict")
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert attributes["server.address"] == "us-east5-aiplatform.googleapis.com"


def test_anthropic_bedrock_client_is_bedrock(telemetry: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand-in: request signing needs botocore, which the test environment does not install; skip only the signing.
    monkeypatch.setattr(anthropic.AnthropicBedrock, "_prepare_request", lambda self, request: None)

    def handle(request: httpx2.Request) -> httpx2.Response:
        return json_response(anthropic_message())

    client = anthropic.AnthropicBedrock(
        aws_region="us-east-1",
        aws_access_key="AKIATEST",
        aws_secret_key="secret",
        http_client=httpx2.Client(transport=httpx2.MockTransport(handle)),
    )
    client.messages.create(model="anthropic.claude-sonnet-4-6-v1:0", max_tokens=64, messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert attributes["server.address"] == "bedrock-runtime.us-east-1.amazonaws.com"


def test_plain_anthropic_client_stays_anthropic(telemetry: Any) -> None:
    client = anthropic.Anthropic(
        api_key=ANTHROPIC_KEY,
        http_client=httpx2.Client(transport=httpx2.MockTransport(lambda r: json_response(anthropic_message()))),
    )
    client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=MSGS)
    assert telemetry.one_span().attributes["gen_ai.provider.name"] == "anthropic"


def test_host_table_matches_subdomains_and_nothing_else() -> None:
    assert provider_for_host("eu.api.groq.com") == "groq"
    assert provider_for_host("bedrock-runtime.eu-west-3.amazonaws.com") == "aws.bedrock"
    assert provider_for_host("API.X.AI.") == "x_ai"
    assert provider_for_host("groq.com") is None  # a parent of a key is not that key
    assert provider_for_host("evil-api.groq.com.example.org") is None
    assert provider_for_host("localhost") is None
    assert all(value and value == value.lower() for value in HOST_PROVIDERS.values())


# -- pricing by the provider actually used (items 1 and 2) ------------------------------------------------------------
def test_azure_deployment_name_is_priced_by_the_response_model(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "gpt-4o-2024-08-06"
    client = openai.AzureOpenAI(
        api_key=OPENAI_KEY,
        api_version="2024-10-21",
        azure_endpoint="https://contoso.openai.azure.com",
        http_client=_transport(body),
    )
    client.chat.completions.create(model="prod-chat-deployment", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.request.model"] == "prod-chat-deployment"
    assert attributes["gen_ai.usage.cost.amount"] > 0
    assert attributes["gen_ai.usage.cost.source"] == "local"
    assert attributes["otel_agent.cost.price_source"] == "genai-prices"
    assert "otel_agent.cost.unpriced" not in attributes


def test_unknown_deployment_and_unknown_response_model_stay_unpriced(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "no-such-model-anywhere-1"
    client = openai.AzureOpenAI(
        api_key=OPENAI_KEY,
        api_version="2024-10-21",
        azure_endpoint="https://contoso.openai.azure.com",
        http_client=_transport(body),
    )
    client.chat.completions.create(model="prod-chat-deployment", messages=MSGS)
    attributes = telemetry.one_span().attributes
    assert attributes["otel_agent.cost.unpriced"] is True
    assert "gen_ai.usage.cost.amount" not in attributes


def test_groq_host_is_priced_as_groq(instrument_with: Any) -> None:
    telemetry = instrument_with(cost=True)
    body = chat_completion()
    body["model"] = "llama-3.3-70b-versatile"
    _openai_at("https://api.groq.com/openai/v1", body).chat.completions.create(
        model="llama-3.3-70b-versatile", messages=MSGS
    )
    attributes = telemetry.one_span().attributes
    assert attributes["gen_ai.provider.name"] == "groq"
    assert attributes["gen_ai.usage.cost.amount"] > 0
