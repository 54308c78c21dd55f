"""Self-hosted models priced by GPU time: the attribution rule, worked by hand."""

from __future__ import annotations

import pytest

from otel_agent.cost.gpu_hour import GpuHourPrices, gpu_hour_cost, vram_share
from otel_agent.cost.overrides import load_overrides


def test_wall_clock_times_gpus_times_hourly_price() -> None:
    cost = gpu_hour_cost(1.5, 2.40, gpus=2)
    assert cost.total == pytest.approx(0.002)  # 1.5 s / 3600 x $2.40 x 2 GPUs
    assert cost.gpu == cost.total
    assert (cost.input, cost.output, cost.reasoning, cost.cache_read, cost.cache_write) == (0, 0, 0, 0, 0)
    assert (cost.source, cost.price_source, cost.currency) == ("local", "gpu-hour", "USD")


def test_vram_share_and_concurrency_split_the_gpu() -> None:
    # 36 s on one $3.60/h GPU is $0.036; this model holds 20 GiB of the 80 GiB in use and shares it with 2 calls
    share = vram_share(20 << 30, 80 << 30)
    assert share == 0.25
    assert gpu_hour_cost(36, 3.60, vram_share=share).total == pytest.approx(0.009)
    assert gpu_hour_cost(36, 3.60, vram_share=share, concurrency=2).total == pytest.approx(0.0045)


def test_vram_share_unknown_is_whole_gpu() -> None:
    assert vram_share(None, 10) == 1.0
    assert vram_share(5, 0) == 1.0
    assert vram_share(30, 20) == 1.0


@pytest.mark.parametrize("kwargs", [{"gpus": 0}, {"vram_share": 0.0}, {"vram_share": 1.5}, {"concurrency": 0.5}])
def test_bad_arguments_raise(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        gpu_hour_cost(1.0, 1.0, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        gpu_hour_cost(1.0, -1.0)


def test_hourly_price_per_model_then_default() -> None:
    overrides = load_overrides(environ={"OTEL_AGENT_PRICES": '{"qwen*": {"gpu_hour": 1.2}}'})
    prices = GpuHourPrices.from_env(overrides, environ={"OTEL_AGENT_GPU_HOURLY_PRICE": "2.5"})
    assert prices.hourly_price("openai", "qwen2.5-7b") == 1.2
    assert prices.hourly_price("openai", "llama-3-8b") == 2.5
    assert GpuHourPrices.from_env(environ={}).hourly_price("openai", "llama-3-8b") is None
    with pytest.raises(ValueError):
        GpuHourPrices.from_env(environ={"OTEL_AGENT_GPU_HOURLY_PRICE": "-3"})
