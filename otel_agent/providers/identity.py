"""Which provider a call really went to: `gen_ai.provider.name` from the client class and the server's host.

One table for every adapter (the OpenAI SDK is pointed at many OpenAI-compatible providers; new adapters reuse
`provider_for_host`). Values are the GenAI conventions' well-known `gen_ai.provider.name` values where one exists
(`azure.ai.openai`, `aws.bedrock`, `gcp.vertex_ai`, `gcp.gemini`, `groq`, `deepseek`, `mistral_ai`, `x_ai`,
`perplexity`); for providers the conventions do not list (OpenRouter, Together, Fireworks) the custom value is the
provider's id in genai-prices, so pricing finds it without a mapping. A host not in the table (a self-hosted server,
a gateway) keeps the SDK's own provider name (`openai` for the OpenAI wire format): the request speaks that API,
and `server.address` / `server.port` say where it went.
"""

from __future__ import annotations

from typing import Any, Final

# host -> gen_ai.provider.name; a key also matches its subdomains (`eu.api.groq.com`).
HOST_PROVIDERS: Final[dict[str, str]] = {
    "api.groq.com": "groq",
    "api.deepseek.com": "deepseek",
    "generativelanguage.googleapis.com": "gcp.gemini",  # Gemini's OpenAI-compatible endpoint (/v1beta/openai)
    "openrouter.ai": "openrouter",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
    "api.together.xyz": "together",
    "api.together.ai": "together",
    "api.fireworks.ai": "fireworks",
    "openai.azure.com": "azure.ai.openai",  # <resource>.openai.azure.com with the plain OpenAI client
    "cognitiveservices.azure.com": "azure.ai.openai",
    "bedrock-runtime.amazonaws.com": "aws.bedrock",  # bedrock-runtime.<region>.amazonaws.com: see below
    "aiplatform.googleapis.com": "gcp.vertex_ai",
    "api.openai.com": "openai",
    "api.anthropic.com": "anthropic",
}

# client class name -> gen_ai.provider.name, for SDK clients that say which cloud they call
CLIENT_PROVIDERS: Final[dict[str, str]] = {
    "AzureOpenAI": "azure.ai.openai",
    "AsyncAzureOpenAI": "azure.ai.openai",
    "AnthropicBedrock": "aws.bedrock",
    "AsyncAnthropicBedrock": "aws.bedrock",
    "AnthropicBedrockMantle": "aws.bedrock",
    "AsyncAnthropicBedrockMantle": "aws.bedrock",
    "AnthropicVertex": "gcp.vertex_ai",
    "AsyncAnthropicVertex": "gcp.vertex_ai",
}


def provider_for_host(host: str | None) -> str | None:
    """The provider serving `host`, from `HOST_PROVIDERS` (exact host or a subdomain of a key); None if unknown."""
    if not host:
        return None
    host = host.lower().rstrip(".")
    while True:
        found = HOST_PROVIDERS.get(host)
        if found is not None:
            return found
        if host.startswith("bedrock-runtime.") and host.endswith(".amazonaws.com"):
            return "aws.bedrock"
        _, dot, rest = host.partition(".")
        if not dot or "." not in rest:
            return None
        host = rest


def provider_of(client: Any, host: str | None, default: str) -> str:
    """`gen_ai.provider.name` for a call made with `client` to `host`: the client's own word first (anthropic 2.x
    clients carry the conventions' value as `_gen_ai_provider_name`; Azure, Bedrock and Vertex client classes say
    which cloud they call), then the host table, else `default` (the adapter's own provider)."""
    own = getattr(type(client), "_gen_ai_provider_name", None)
    if isinstance(own, str) and own and own != default:
        return own
    for cls in type(client).__mro__:
        found = CLIENT_PROVIDERS.get(cls.__name__)
        if found is not None:
            return found
    return provider_for_host(host) or default
