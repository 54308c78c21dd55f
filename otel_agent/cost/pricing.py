"""Price one LLM call: user prices first, then the genai-prices data bundled with the package, else unpriced.

`Pricer.price` is called on every call, so it does the expensive part (finding the provider and model in the data)
once per (provider, model, server address) and keeps the answer, misses included. The bundled data is used as
installed: nothing is fetched at start-up. `Pricer.refresh` fetches the newest data when the user asks for it.

Rules:

* A user price (`overrides`) wins over genai-prices; its cost has ``price_source="user"``.
* A call to a server on this machine (`is_local_endpoint`) gets no list price: a self-hosted model costs GPU time
  (see `gpu_hour`), and a local model named like a hosted one (``gpt-oss-20b``) must not be billed at API rates.
  ``price_local_endpoints=True`` turns this off, for a local proxy in front of a paid API.
* The provider is taken from the server address when genai-prices knows its URL (the OpenAI SDK pointed at Groq is
  priced as Groq), else from ``gen_ai.provider.name``.
* An unknown model is never guessed: no cost, ``unpriced=True``, and one log line per (provider, model) on the
  ``otel_agent.cost`` logger.
* Long-context tiers: genai-prices' tiers are cliffs on the call's total input tokens (cache reads and writes
  included); every token type is priced at the tier the input reached, as genai-prices does.
* Anthropic's 1-hour cache writes cost more than 5-minute ones; `Usage` does not tell them apart, so cache writes are
  priced at the 5-minute (default) rate. Per-request and per-search fees are not in `Usage` and are not priced.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..gpu.local_endpoint import is_local_endpoint
from ..ratelog import RateLimitedLog
from ..records import CostBreakdown, Usage
from .overrides import PriceOverrides
from .rates import TokenRates, cost_of

if TYPE_CHECKING:
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, ModelPrice

log = logging.getLogger("otel_agent.cost")

# Why a call has no cost.
NO_MODEL = "no-model"
NO_USAGE = "no-usage"
UNKNOWN_MODEL = "unknown-model"
NOT_TOKEN_PRICED = "not-token-priced"
LOCAL_ENDPOINT = "local-endpoint"

# gen_ai.provider.name values whose genai-prices provider id differs.
_PROVIDER_IDS = {
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "x_ai": "x-ai",
}
_CACHE_LIMIT = 4096


@dataclass(frozen=True, slots=True)
class PriceResult:
    """Either a cost, or ``unpriced=True`` with the reason (one of the constants above)."""

    cost: CostBreakdown | None
    unpriced: bool = False
    reason: str | None = None
    matched_model: str | None = None  # the model id the price came from (genai-prices id or the user's pattern)

    @classmethod
    def priced(cls, cost: CostBreakdown, matched_model: str) -> PriceResult:
        return cls(cost=cost, matched_model=matched_model)

    @classmethod
    def unpriced_because(cls, reason: str) -> PriceResult:
        return cls(cost=None, unpriced=True, reason=reason)


@dataclass(frozen=True, slots=True)
class ListPrice:
    """A model's list price per million tokens at the base (shortest-context) tier."""

    model: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None  # None: billed as output
    currency: str = "USD"
    tiered: bool = False  # the data has long-context tiers above these base prices
    price_source: str = "genai-prices"

    @property
    def blended(self) -> float:
        """The blended price per million tokens, 3 input : 1 output.

        genai-prices has no blend of its own; 3:1 is the usual convention of public price comparisons (Artificial
        Analysis) and the one the Price Reversal paper argues against, since it leaves out thinking tokens and turns.
        """
        return (3 * self.input + self.output) / 4


@dataclass(frozen=True, slots=True)
class _Found:
    model: ModelInfo
    provider_id: str


class Pricer:
    """Prices calls. Thread-safe; one per process is enough."""

    def __init__(self, overrides: PriceOverrides | None = None, *, price_local_endpoints: bool = False) -> None:
        self._overrides = overrides or PriceOverrides()
        self._price_local = price_local_endpoints
        self._lock = threading.Lock()
        self._snapshot: DataSnapshot | None = None
        self._found: dict[tuple[str, str, str | None], _Found | None] = {}
        self._misses = RateLimitedLog(log)

    @property
    def overrides(self) -> PriceOverrides:
        return self._overrides

    def price(
        self,
        request_provider: str,
        model: str | None,
        usage: Usage,
        *,
        server_address: str | None = None,
        when: datetime | None = None,
    ) -> PriceResult:
        """Price one call's `usage`. `when` picks dated prices (default: now).

        A usage with neither input nor output counts (the provider sent none) is unpriced, not $0.
        """
        if not model:
            return PriceResult.unpriced_because(NO_MODEL)
        if usage.input_tokens is None and usage.output_tokens is None:
            return PriceResult.unpriced_because(NO_USAGE)
        override = self._overrides.match(request_provider, model)
        if override is not None and override.rates is not None:
            return PriceResult.priced(cost_of(usage, override.rates, price_source="user"), override.pattern)
        if not self._price_local and is_local_endpoint(server_address):
            return PriceResult.unpriced_because(LOCAL_ENDPOINT)
        found = self._find(request_provider, model, server_address)
        if found is None:
            return PriceResult.unpriced_because(UNKNOWN_MODEL)
        model_price = found.model.get_prices(when or datetime.now(tz=timezone.utc))
        rates = _rates_at(model_price, usage.input_tokens or 0)
        if rates is None:
            self._log_once(request_provider, model, "is not priced per token in genai-prices")
            return PriceResult.unpriced_because(NOT_TOKEN_PRICED)
        return PriceResult.priced(cost_of(usage, rates, price_source="genai-prices"), found.model.id)

    def list_price(
        self, request_provider: str, model: str, *, server_address: str | None = None, when: datetime | None = None
    ) -> ListPrice | None:
        """The model's list price (user price first); None when neither source knows it, or for a local endpoint
        without a user price (as in `price`)."""
        override = self._overrides.match(request_provider, model)
        if override is not None and override.rates is not None:
            r = override.rates
            return ListPrice(
                model=model,
                input=r.input,
                output=r.output,
                cache_read=r.cache_read,
                cache_write=r.cache_write,
                reasoning=r.reasoning,
                currency=r.currency,
                price_source="user",
            )
        if not self._price_local and is_local_endpoint(server_address):
            return None
        found = self._find(request_provider, model, server_address)
        if found is None:
            return None
        model_price = found.model.get_prices(when or datetime.now(tz=timezone.utc))
        rates = _rates_at(model_price, 0)
        if rates is None:
            return None
        tiered = any(_is_tiered(model_price.__dict__.get(key)) for key in _PRICE_KEYS.values())
        return ListPrice(
            model=found.model.id,
            input=rates.input,
            output=rates.output,
            cache_read=rates.cache_read,
            cache_write=rates.cache_write,
            reasoning=rates.reasoning,
            tiered=tiered,
        )

    def refresh(self, timeout_s: float = 30.0) -> bool:
        """Fetch the newest price data now (network), for this process only; the bundled data is not changed.

        Uses genai-prices' own updater (``genai_prices.UpdatePrices``: one fetch of its published data file). Returns
        True when new data is in use, False when the fetch did not finish within `timeout_s` (it may still land
        later). Raises the fetch's error (no network, HTTP error) so the command that asked can show it.
        """
        from genai_prices import UpdatePrices

        updater = UpdatePrices(update_interval=365 * 24 * 3600)
        updater.start()
        try:
            return updater.wait(timeout_s)
        finally:
            updater.stop()  # type: ignore[no-untyped-call]

    # -- lookups ---------------------------------------------------------------------------------------------------
    def _find(self, request_provider: str, model: str, server_address: str | None) -> _Found | None:
        snapshot = _current_snapshot()
        key = (request_provider, model, server_address)
        if snapshot is self._snapshot:
            try:
                return self._found[key]
            except KeyError:
                pass
        with self._lock:
            if snapshot is not self._snapshot:  # first call, or refreshed data: start over
                self._snapshot = snapshot
                self._found = {}
            if len(self._found) >= _CACHE_LIMIT:
                self._found.clear()
            found = _lookup(snapshot, request_provider, model, server_address)
            self._found[key] = found
        if found is None:
            self._log_once(request_provider, model, "has no known price")
        return found

    def _log_once(self, provider: str, model: str, what: str) -> None:
        """One line per kind of miss, then a periodic count (a process may see thousands of model names)."""
        self._misses.warning(
            what,
            "otel-agent: model %r (provider %r) %s; its calls are marked unpriced. "
            "Give its price in OTEL_AGENT_PRICES_FILE to price them.",
            model,
            provider,
            what,
        )


def _current_snapshot() -> DataSnapshot:
    from genai_prices.data_snapshot import get_snapshot

    return get_snapshot()


def _lookup(snapshot: DataSnapshot, request_provider: str, model: str, server_address: str | None) -> _Found | None:
    candidates: list[Any] = []
    if server_address:
        url = server_address if "://" in server_address else f"https://{server_address}"
        try:
            candidates.append(snapshot.find_provider(None, None, url))
        except LookupError:
            pass
    provider_id = _PROVIDER_IDS.get(request_provider.lower(), request_provider)
    try:
        candidates.append(snapshot.find_provider(model.lower(), provider_id, None))
    except LookupError:
        pass
    for provider in candidates:
        info = provider.find_model(model, all_providers=snapshot.providers)
        if info is not None:
            return _Found(info, provider.id)
    return None


_PRICE_KEYS = {
    "input": "input_mtok",
    "output": "output_mtok",
    "cache_read": "cache_read_mtok",
    "cache_write": "cache_write_mtok",
    "reasoning": "output_reasoning_mtok",
}


def _rates_at(model_price: ModelPrice, total_input_tokens: int) -> TokenRates | None:
    """The per-token rates of `model_price` at the tier `total_input_tokens` reaches; None without token prices."""
    stored = model_price.__dict__  # only the prices the model has; getattr would look up every missing key
    values = {name: _at_tier(stored.get(key), total_input_tokens) for name, key in _PRICE_KEYS.items()}
    if values["input"] is None and values["output"] is None:
        return None
    return TokenRates(
        input=values["input"] or 0.0,
        output=values["output"] or 0.0,
        cache_read=values["cache_read"],
        cache_write=values["cache_write"],
        reasoning=values["reasoning"],
    )


def _at_tier(price: Any, total_input_tokens: int) -> float | None:
    """genai-prices' cliff tiers: the highest tier whose start the input exceeds applies to every token."""
    if price is None:
        return None
    if isinstance(price, Decimal):
        return float(price)
    applicable = price.base
    for tier in reversed(price.tiers):
        if total_input_tokens > tier.start:
            applicable = tier.price
            break
    return float(applicable)


def _is_tiered(price: Any) -> bool:
    return price is not None and not isinstance(price, Decimal)
