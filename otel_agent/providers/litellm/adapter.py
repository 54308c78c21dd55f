"""The LiteLLM adapter, at its public entry points `litellm.completion` and `litellm.acompletion`.

LiteLLM reaches some providers through their SDKs (the openai SDK, already hooked) and others through its own HTTP
code (Anthropic, Gemini, Bedrock, ...) or a native dispatcher. Recording at the entry point gives one span per call
whichever way it goes: the nested SDK call runs inside this call and is not recorded again. The provider and model
are the ones LiteLLM resolves (`litellm.get_llm_provider`); requests and responses are OpenAI-shaped (LiteLLM
normalises them), read by the Chat Completions readers.

LiteLLM's own cost for the call (`_hidden_params["response_cost"]`, or a stream's last `usage.cost`) is LiteLLM's
computation from its price map, not the provider's bill: it is kept beside otel-agent's (`client_cost`,
`otel_agent.cost.client_reported`) and does not replace it as a provider-reported cost would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ...records import TurnRequest, TurnResponse
from .._read import as_float, as_str, get
from ..base import Started, whole
from ..openai import chat
from ..openai.content import ChatRequestContent

# LiteLLM's provider ids -> gen_ai.provider.name (the conventions' well-known values where one exists)
PROVIDERS = {
    "openai": "openai",
    "text-completion-openai": "openai",
    "azure": "azure.ai.openai",
    "azure_ai": "azure.ai.inference",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai",
    "bedrock": "aws.bedrock",
    "bedrock_converse": "aws.bedrock",
    "groq": "groq",
    "mistral": "mistral_ai",
    "codestral": "mistral_ai",
    "ollama": "ollama",
    "ollama_chat": "ollama",
    "deepseek": "deepseek",
    "xai": "x_ai",
    "perplexity": "perplexity",
    "cohere": "cohere",
    "cohere_chat": "cohere",
    "watsonx": "ibm.watsonx.ai",
    "openrouter": "openrouter",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
}


_BEDROCK_ROUTES = ("converse/", "invoke/", "converse_like/")


class LiteLLMAdapter:
    provider = "litellm"

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Started | None:
        model = args[0] if args else kwargs.get("model")
        if not isinstance(model, str):
            return None
        messages = args[1] if len(args) > 1 else kwargs.get("messages")
        resolved, llm_provider, api_base = _resolve(model, kwargs)
        body = {**kwargs, "model": resolved, "messages": messages}
        address, port = _server(api_base)
        stream = bool(kwargs.get("stream"))
        msgs, system = chat.request_messages(body)
        return Started(
            TurnRequest(
                provider=PROVIDERS.get(llm_provider or "", llm_provider or self.provider),
                operation="chat",
                model=resolved,
                server_address=address,
                server_port=port,
                stream=stream,
                params=chat.request_params(body),
                system=system,
                messages=msgs,
                tool_names=chat.tool_names(kwargs.get("tools")),
                api="litellm.completion",
                content=ChatRequestContent(messages),
            ),
            stream=stream,
        )

    def response(self, started: Started, result: Any) -> TurnResponse:
        return _with_client_cost(chat.response(result), reported_cost(result))

    def accumulator(self, started: Started) -> LiteLLMStreamAccumulator:
        return LiteLLMStreamAccumulator()

    def stream_of(self, started: Started, result: Any) -> Any:
        return whole(result)


class LiteLLMStreamAccumulator:
    """OpenAI-shaped chunks; the last one's `usage.cost` is LiteLLM's cost of the call."""

    __slots__ = ("_inner", "_cost")

    def __init__(self) -> None:
        self._inner = chat.ChatStreamAccumulator()
        self._cost: float | None = None

    def add(self, chunk: Any) -> None:
        self._inner.add(chunk)
        self._cost = reported_cost(chunk) if get(chunk, "usage") is not None else self._cost

    def result(self) -> TurnResponse:
        return _with_client_cost(self._inner.result(), self._cost)


def _with_client_cost(response: TurnResponse, cost: float | None) -> TurnResponse:
    response.client_cost = cost if cost is not None else response.reported_cost
    response.reported_cost = None  # LiteLLM's figure, not the provider's: ours stays the span's cost
    return response


def reported_cost(result: Any) -> float | None:
    """LiteLLM's own cost of a call: `_hidden_params["response_cost"]`, or a stream chunk's `usage.cost`."""
    hidden = getattr(result, "_hidden_params", None)
    cost = as_float(get(hidden, "response_cost")) if isinstance(hidden, dict) else None
    if cost is None:
        cost = as_float(get(get(result, "usage"), "cost"))
    return cost if cost is not None and cost >= 0 else None


def _resolve(model: str, kwargs: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(model, LiteLLM provider id, api base) as LiteLLM resolves them; the prefix split if it cannot."""
    api_base = as_str(kwargs.get("api_base")) or as_str(kwargs.get("base_url"))
    try:
        import litellm

        resolved, provider, _, base = litellm.get_llm_provider(
            model=model, custom_llm_provider=as_str(kwargs.get("custom_llm_provider")), api_base=api_base
        )
        resolved = str(resolved)
        if provider == "bedrock":  # LiteLLM's route prefix is not part of Bedrock's model id
            for route in _BEDROCK_ROUTES:
                resolved = resolved.removeprefix(route)
        return resolved, as_str(provider), as_str(base) or api_base
    except Exception:  # an unknown model: LiteLLM itself will raise, the call is still recorded
        prefix, _, rest = model.partition("/")
        return (rest, prefix, api_base) if rest else (model, None, api_base)


def _server(url: str | None) -> tuple[str | None, int | None]:
    if not url:
        return None, None
    try:
        parts = urlsplit(url)
        return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None, None
