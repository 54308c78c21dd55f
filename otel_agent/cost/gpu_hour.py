"""Cost of a call to a self-hosted model, from the GPU time it held at an hourly price.

Attribution rule (what one call is charged)::

    cost = duration_s / 3600 x hourly_price x gpus

* ``duration_s``: the call's wall-clock time (request sent to last byte). The GPUs are reserved for the model the
  whole time, whether they compute or wait, so wall-clock time is what the call holds, not kernel time.
* ``gpus``: the devices the model server runs on, as sampled for the call (``len(GpuUsage.device_ids)``); a model
  split over 2 GPUs holds both.

Not split: calls in flight on the same server at the same time are each charged in full, and a model sharing its
GPUs with other models is charged for the whole devices. Both make the figure an upper bound of the call's share.

The hourly price comes from the ``gpu_hourly_price`` option (``OTEL_AGENT_GPU_HOURLY_PRICE``) or, per model, from a
``gpu_hour`` entry in the user prices (see `overrides`). The result is a `CostBreakdown` whose only component is
``gpu``, with ``source="local"`` and ``price_source="gpu-hour"``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..records import CostBreakdown
from .overrides import PriceOverrides


@dataclass(frozen=True, slots=True)
class GpuHourPrices:
    """Where hourly prices come from: a per-model ``gpu_hour`` user price, else one default price."""

    default: float | None = None
    overrides: PriceOverrides | None = None

    def hourly_price(self, provider: str | None, model: str | None) -> float | None:
        """USD per GPU-hour for this model, or None when no price is configured."""
        if self.overrides is not None:
            entry = self.overrides.match(provider, model)
            if entry is not None and entry.gpu_hour is not None:
                return entry.gpu_hour
        return self.default


def gpu_hour_cost(
    duration_s: float,
    hourly_price: float,
    *,
    gpus: int = 1,
    currency: str = "USD",
) -> CostBreakdown:
    """Charge a call for the GPU time it held, by the rule in the module docstring."""
    _hourly(hourly_price)
    if gpus < 1:
        raise ValueError(f"gpus must be at least 1, got {gpus}")
    cost = max(duration_s, 0.0) / 3600 * hourly_price * gpus
    return CostBreakdown(total=cost, currency=currency, gpu=cost, source="local", price_source="gpu-hour")


def _hourly(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"an hourly GPU price must be a finite non-negative number, got {value!r}")
    return value
