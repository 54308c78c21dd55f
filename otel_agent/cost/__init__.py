"""Cost of LLM calls: list prices (genai-prices), user prices, GPU-hour pricing of local models, price reversal."""

from .gpu_hour import GpuHourPrices, gpu_hour_cost
from .overrides import PriceOverrides, PriceOverridesError, load_overrides
from .pricing import ListPrice, Pricer, PriceResult
from .reversal import ModelRunStats, ReversalReport, analyze_price_reversal

__all__ = [
    "GpuHourPrices",
    "ListPrice",
    "ModelRunStats",
    "PriceOverrides",
    "PriceOverridesError",
    "PriceResult",
    "Pricer",
    "ReversalReport",
    "analyze_price_reversal",
    "gpu_hour_cost",
    "load_overrides",
]
