"""Cost of a call to a self-hosted model, from the GPU time it held at an hourly price.

Attribution rule (what one call is charged)::

    cost = duration_s / 3600 x hourly_price x gpus x vram_share / concurrency

* ``duration_s``: the call's wall-clock time (request sent to last byte). The GPUs are reserved for the model the
  whole time, whether they compute or wait, so wall-clock time is what the call holds, not kernel time.
* ``gpus``: the devices the model server runs on, as sampled for the call (``len(GpuUsage.device_ids)``); a model
  split over 2 GPUs holds both.
* ``vram_share`` in (0, 1]: when several models share the devices, the share of the used VRAM that is this model's
  (its server's process memory / all used memory on those devices). Memory is what keeps other work off a GPU, so it
  is the fairest split available from NVML; 1 when the model has the GPUs to itself.
* ``concurrency`` >= 1: calls in flight on the same server at the same time (mean over the call). Batched calls share
  the GPU; dividing keeps the sum of all calls' costs at the GPU's real cost. Left at 1, overlapping calls are each
  charged in full: an upper bound.

The hourly price comes from ``OTEL_AGENT_GPU_HOURLY_PRICE`` (the ``gpu_hourly_price`` option) or, per model, from a
``gpu_hour`` entry in the user prices (see `overrides`). The result is a `CostBreakdown` whose only component is
``gpu``, with ``source="local"`` and ``price_source="gpu-hour"``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..records import CostBreakdown
from .overrides import PriceOverrides

HOURLY_PRICE_ENV = "OTEL_AGENT_GPU_HOURLY_PRICE"


@dataclass(frozen=True, slots=True)
class GpuHourPrices:
    """Where hourly prices come from: a per-model ``gpu_hour`` user price, else one default price."""

    default: float | None = None
    overrides: PriceOverrides | None = None

    @classmethod
    def from_env(
        cls, overrides: PriceOverrides | None = None, environ: Mapping[str, str] | None = None
    ) -> GpuHourPrices:
        """Default from ``OTEL_AGENT_GPU_HOURLY_PRICE``; raises ValueError on a value that is not a price."""
        raw = (os.environ if environ is None else environ).get(HOURLY_PRICE_ENV, "").strip()
        return cls(default=_hourly(float(raw)) if raw else None, overrides=overrides)

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
    vram_share: float = 1.0,
    concurrency: float = 1.0,
    currency: str = "USD",
) -> CostBreakdown:
    """Charge a call for the GPU time it held, by the rule in the module docstring."""
    _hourly(hourly_price)
    if gpus < 1:
        raise ValueError(f"gpus must be at least 1, got {gpus}")
    if not 0 < vram_share <= 1:
        raise ValueError(f"vram_share must be in (0, 1], got {vram_share}")
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    cost = max(duration_s, 0.0) / 3600 * hourly_price * gpus * vram_share / concurrency
    return CostBreakdown(total=cost, currency=currency, gpu=cost, source="local", price_source="gpu-hour")


def vram_share(model_bytes: int | None, used_bytes: int | None) -> float:
    """This model's share of the used VRAM, for `gpu_hour_cost`; 1 when it cannot be told."""
    if not model_bytes or not used_bytes or model_bytes <= 0 or used_bytes <= 0:
        return 1.0
    return min(model_bytes / used_bytes, 1.0)


def _hourly(value: float) -> float:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"an hourly GPU price must be a finite non-negative number, got {value!r}")
    return value
