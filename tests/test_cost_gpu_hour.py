"""Self-hosted models priced by GPU time: the attribution rule, worked by hand."""

from __future__ import annotations

import pytest

from otel_agent.cost.gpu_hour import GpuHourPrices, gpu_hour_cost
from otel_agent.cost.overrides import load_overrides


def test_wall_clock_times_gpus_times_hourly_price() -> None:
    cost = gpu_hour_cost(1.5, 2.40, gpus=2)
    assert cost.total == pytest.approx(0.002)  # 1.5 s / 3600 x $2.40 x 2 GPUs
    assert cost.gpu == cost.total
    assert (cost.input, cost.output, cost.reasoning, cost.cache_read, cost.cache_write) == (0, 0, 0, 0, 0)
    assert (cost.source, cost.price_source, cost.currency) == ("local", "gpu-hour", "USD")


def test_overlapping_calls_are_each_charged_in_full() -> None:
    # no split by concurrency or VRAM share: two calls holding the same GPU for 36 s at $3.60/h cost $0.036 each
    assert gpu_hour_cost(36, 3.60).total == pytest.approx(0.036)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError):
        gpu_hour_cost(1.0, 1.0, gpus=0)
    with pytest.raises(ValueError):
        gpu_hour_cost(1.0, -1.0)


def test_hourly_price_per_model_then_default() -> None:
    overrides = load_overrides(environ={"OTEL_AGENT_PRICES": '{"qwen*": {"gpu_hour": 1.2}}'})
    prices = GpuHourPrices(default=2.5, overrides=overrides)  # the default: the gpu_hourly_price option
    assert prices.hourly_price("openai", "qwen2.5-7b") == 1.2
    assert prices.hourly_price("openai", "llama-3-8b") == 2.5
    assert GpuHourPrices().hourly_price("openai", "llama-3-8b") is None
