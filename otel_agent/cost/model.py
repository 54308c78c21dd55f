"""The pipeline's cost stage: token prices for API models, GPU-hour prices for self-hosted ones.

Order per call: a cost the provider reported in the response (OpenRouter's ``usage.cost``, a LiteLLM proxy's
``x-litellm-response-cost`` header), passed through unchanged with ``source=provider`` -> a user price (file /
variable) -> GPU time, when the call went to a local endpoint and a GPU-hour
price is configured -> genai-prices' bundled data -> unpriced (no guess, one log line per model, a counter).
It also reports each model's list price once (`on_list_price`; the telemetry layer makes it the
`otel_agent.model.list_price` gauge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from ..bounded import LruCache
from ..config import Options
from ..gpu.local_endpoint import is_local_endpoint
from ..records import CostBreakdown, TurnRecord, Usage
from ..redaction import redact
from .gpu_hour import GpuHourPrices, gpu_hour_cost
from .overrides import PriceOverridesError, load_overrides
from .pricing import UNKNOWN_MODEL, Pricer, PriceResult

_EMPTY = Usage()
MODEL_CACHE_SIZE = 4096
log = logging.getLogger("otel_agent.cost")


def _warn_prices(error: PriceOverridesError) -> None:
    text = redact(str(error))
    log.warning("otel-agent: ignoring user prices: %s", text if len(text) <= 300 else text[:297] + "...")


def provider_reported(amount: float, currency: str = "USD") -> CostBreakdown:
    """A cost the provider reported for the call, unchanged: `gen_ai.usage.cost.source=provider`, no breakdown."""
    return CostBreakdown(total=amount, currency=currency, source="provider", price_source="provider")


ListPriceSink = Callable[[str, str, Iterable[tuple[str, float]]], None]  # (provider, model, (token type, USD/M))


class CostModel:
    def __init__(self, pricer: Pricer, gpu_prices: GpuHourPrices, on_list_price: ListPriceSink | None = None) -> None:
        self._pricer = pricer
        self._gpu_prices = gpu_prices
        self._on_list_price = on_list_price
        # per-model state is bounded: a process that sees ever new model names keeps the most recent ones
        self._published: LruCache[tuple[str, str], bool] = LruCache(MODEL_CACHE_SIZE)
        self._list_cache: LruCache[tuple[str, str], float | None] = LruCache(MODEL_CACHE_SIZE)

    @classmethod
    def from_options(cls, options: Options, on_list_price: ListPriceSink | None = None) -> CostModel:
        # a bad source or entry is one warning line and is dropped; the bundled prices stay on either way
        overrides = load_overrides(options.prices_file, on_error=_warn_prices)
        gpu_prices = GpuHourPrices(default=options.gpu_hourly_price, overrides=overrides)  # validated in config
        return cls(Pricer(overrides), gpu_prices, on_list_price)

    def price(self, record: TurnRecord) -> tuple[CostBreakdown | None, bool]:
        request = record.request
        reported = record.response.reported_cost if record.response is not None else None
        if reported is not None:  # the provider said what the call cost: passed through, never re-computed
            return provider_reported(reported), False
        model = request.model or record.model
        usage = record.usage or _EMPTY
        if model:
            self._publish_list_price(request.provider, model, request.server_address)
        result = self._price_by_models(request.provider, request.model, record.model, usage, request.server_address)
        if result.cost is not None and result.cost.price_source == "user":
            return result.cost, False
        if is_local_endpoint(request.server_address):
            hourly = self._gpu_prices.hourly_price(request.provider, model)
            if hourly is not None:
                gpus = len(record.gpu.device_ids) if record.gpu and record.gpu.device_ids else 1
                return gpu_hour_cost(record.duration_s, hourly, gpus=gpus), False
        if result.cost is not None:
            return result.cost, False
        if record.usage is None and record.error_type is not None:
            return None, False  # a failed call with no usage costs nothing we can know; not "unpriced"
        return None, True

    def _price_by_models(
        self,
        provider: str,
        request_model: str | None,
        response_model: str | None,
        usage: Usage,
        server_address: str | None,
    ) -> PriceResult:
        """The request model's price; when no price is known for it, the response model's (an Azure deployment name
        is the request model, the model that served it comes back in the response). Never a guess beyond those two."""
        result = self._pricer.price(provider, request_model or response_model, usage, server_address=server_address)
        if result.reason == UNKNOWN_MODEL and request_model and response_model and response_model != request_model:
            by_response = self._pricer.price(provider, response_model, usage, server_address=server_address)
            if by_response.cost is not None:
                return by_response
        return result

    def list_price(self, provider: str, model: str) -> float | None:
        """Blended list price per million tokens (used to rank model tiers when none are configured)."""

        def blended() -> float | None:
            price = self._pricer.list_price(provider, model)
            return price.blended if price is not None else None

        return self._list_cache.get_or_compute((provider, model), blended)

    def _publish_list_price(self, provider: str, model: str, server_address: str | None) -> None:
        if self._on_list_price is None or not self._published.add_new((provider, model), True):
            return
        price = self._pricer.list_price(provider, model, server_address=server_address)
        if price is None:
            return
        self._on_list_price(
            provider, model, (("input", price.input), ("output", price.output), ("blended", price.blended))
        )
