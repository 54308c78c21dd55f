"""Costs the provider (or a gateway in front of it) reported for a call, read where they arrive.

Only a cost the response itself carried is a provider cost (`gen_ai.usage.cost.source=provider`, semconv-genai
PR #443): OpenRouter's ``usage.cost`` in the body (read by the adapters), or a LiteLLM proxy's
``x-litellm-response-cost`` response header (read here). Either is passed through unchanged.
"""

from __future__ import annotations

from typing import Any, Final

from ._read import as_cost

COST_HEADERS: Final = ("x-litellm-response-cost",)


def cost_from_headers(headers: Any) -> float | None:
    """The reported cost in an HTTP response's headers (an `httpx` Headers or any mapping), else None."""
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    for name in COST_HEADERS:
        cost = as_cost(getter(name))
        if cost is not None:
            return cost
    return None
