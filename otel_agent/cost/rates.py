"""Per-token rates and the arithmetic that turns a `Usage` into a `CostBreakdown`.

Both price sources (genai-prices and the user's own prices) end here, so a call is split into components the same
way whoever priced it. Token conventions are those of `records.Usage`: ``input_tokens`` includes cache reads and
cache writes, ``output_tokens`` includes reasoning tokens. So:

* input       = (input - cache_read - cache_write) x input rate
* cache_read  = cache_read x cache-read rate (the input rate when the price has none)
* cache_write = cache_write x cache-write rate (the input rate when the price has none)
* output      = (output - reasoning) x output rate
* reasoning   = reasoning x reasoning rate (the output rate when the price has none)

and ``total`` is their sum. This is how genai-prices itself splits usage into leaf units (a more specific unit, such
as cache reads, is subtracted from its parent, input tokens, and priced at its own rate when it has one), so the
total matches ``genai_prices.calc_price`` for the same usage and prices.

Counts the provider got wrong are clamped rather than priced twice: reasoning tokens above the output total count
as no more than that total.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..records import CostBreakdown, Usage

PER = 1_000_000  # rates are per million tokens


@dataclass(frozen=True, slots=True)
class TokenRates:
    """Prices in `currency` per million tokens. ``None`` means "billed as its parent": input or output."""

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None
    currency: str = "USD"

    @property
    def effective_cache_read(self) -> float:
        return self.input if self.cache_read is None else self.cache_read

    @property
    def effective_cache_write(self) -> float:
        return self.input if self.cache_write is None else self.cache_write

    @property
    def effective_reasoning(self) -> float:
        return self.output if self.reasoning is None else self.reasoning


def cost_of(
    usage: Usage,
    rates: TokenRates,
    *,
    price_source: str,
    source: Literal["provider", "local"] = "local",
) -> CostBreakdown:
    """Price `usage` at `rates`; the components add up to ``total``."""
    output_tokens = usage.output_tokens or 0
    reasoning_tokens = usage.reasoning_tokens or 0
    if usage.output_tokens is not None:
        reasoning_tokens = min(reasoning_tokens, output_tokens)
    visible_output = max(output_tokens - reasoning_tokens, 0)

    input_cost = usage.uncached_input_tokens * rates.input / PER
    cache_read = (usage.cache_read_tokens or 0) * rates.effective_cache_read / PER
    cache_write = (usage.cache_write_tokens or 0) * rates.effective_cache_write / PER
    output_cost = visible_output * rates.output / PER
    reasoning = reasoning_tokens * rates.effective_reasoning / PER
    return CostBreakdown(
        total=input_cost + cache_read + cache_write + output_cost + reasoning,
        currency=rates.currency,
        input=input_cost,
        output=output_cost,
        reasoning=reasoning,
        cache_read=cache_read,
        cache_write=cache_write,
        source=source,
        price_source=price_source,
    )
