"""Adapter to `otel_agent.cost.reversal`: fills the list-price and reversal columns of the model table.

Imported lazily, so the report works without the cost package (or its price data); then the columns stay empty and
the report carries a one-line note saying why.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .tables import ModelRow, Reversal

# (provider, model, server address) -> an object with a `blended` price per million tokens, or None
ListPriceLookup = Callable[[str, str, "str | None"], Any]


@contextmanager
def _quiet_pricing() -> Iterator[None]:
    """The pricer warns once per unknown model, for live telemetry; in a report the empty column says it already."""
    logger = logging.getLogger("otel_agent.cost")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def default_list_price_lookup() -> ListPriceLookup:
    """List prices from `otel_agent.cost.pricing.Pricer` (user prices, then the bundled genai-prices data)."""
    from otel_agent.cost.overrides import PriceOverridesError, load_overrides
    from otel_agent.cost.pricing import Pricer

    try:
        pricer = Pricer(load_overrides())  # the user's prices (OTEL_AGENT_PRICES / _FILE) name their own models
    except PriceOverridesError:
        pricer = Pricer()

    def lookup(provider: str, model: str, server_address: str | None) -> Any:
        return pricer.list_price(provider, model, server_address=server_address)

    return lookup


def apply_price_reversal(rows: Sequence[ModelRow], lookup: ListPriceLookup | None = None) -> str | None:
    """Set `list_price_per_1m` and `reversals` on `rows`, comparing models within each agent.

    Returns None when done, else the one-line note to show instead of the columns.
    """
    with _quiet_pricing():
        return _apply(rows, lookup)


@dataclass(frozen=True, slots=True)
class TelemetryListPrice:
    """A list price read back from the telemetry: the rates its turns were priced at (same 3:1 blend)."""

    input: float
    output: float

    @property
    def blended(self) -> float:
        return (3 * self.input + self.output) / 4


def _telemetry_list_price(row: ModelRow | None) -> TelemetryListPrice | None:
    """When the price data at hand does not know the model (prices set where the telemetry was made), its spans do."""
    if row is None or row.telemetry_rates is None:
        return None
    return TelemetryListPrice(*row.telemetry_rates)


def _apply(rows: Sequence[ModelRow], lookup: ListPriceLookup | None) -> str | None:
    try:
        from otel_agent.cost.reversal import ModelRunStats, analyze_price_reversal
    except ImportError as error:
        return f"list price and price-reversal columns omitted: price reversal is unavailable ({error})"
    try:
        lookup = lookup or default_list_price_lookup()
    except Exception as error:
        return f"list price and price-reversal columns omitted: no price data ({error})"
    for agent in sorted({row.agent for row in rows}):
        group = {row.model: row for row in rows if row.agent == agent}

        def list_price(provider: str, model: str, _group: dict[str, ModelRow] = group) -> Any:
            row = _group.get(model)
            try:
                found = lookup(provider, model, row.server_address if row is not None else None)
            except Exception:
                found = None
            return found if found is not None else _telemetry_list_price(row)

        stats = [
            ModelRunStats(
                model=row.model,
                provider=row.provider or "",
                runs=row.runs,
                successful_runs=row.successful_runs,
                turns=row.turns,
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                reasoning_tokens=row.reasoning_tokens,
                cache_read_tokens=row.cache_read_tokens,
                cache_write_tokens=row.cache_write_tokens,
                total_cost=row.cost,
                reasoning_cost=row.reasoning_cost,
                currency=row.currency,
            )
            for row in group.values()
        ]
        try:
            result = analyze_price_reversal(stats, list_price)
        except Exception as error:
            return f"list price and price-reversal columns omitted: price reversal failed ({error})"
        for profile in result.profiles:
            group[profile.model].list_price_per_1m = profile.blended_list_price
        for reversal in result.reversals:
            group[reversal.cheaper_listed].reversals.append(
                Reversal(
                    pricier_listed=reversal.pricier_listed,
                    listed_discount=reversal.listed_discount,
                    extra_cost=None if math.isinf(reversal.cost_ratio) else reversal.extra_cost,
                )
            )
    return None
