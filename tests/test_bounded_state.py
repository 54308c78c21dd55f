"""State and logs do not grow with the number of distinct model names a process sees (the issue measured 15,000;
6,000 here, past the caches' bound of 4,096, keeps the test quick: each unknown name costs a genai-prices lookup)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_agent.bounded import LruCache
from otel_agent.cost.gpu_hour import GpuHourPrices
from otel_agent.cost.model import MODEL_CACHE_SIZE, CostModel
from otel_agent.cost.pricing import Pricer
from otel_agent.ratelog import RateLimitedLog
from otel_agent.records import TurnRecord, TurnRequest, TurnResponse, Usage

NAMES = [f"private-model-{i}" for i in range(6_000)]
USAGE = Usage(input_tokens=10, output_tokens=10)


def _record(model: str) -> TurnRecord:
    request = TurnRequest(
        provider="openai", operation="chat", model=model, server_address="api.openai.com", server_port=443, stream=False
    )
    return TurnRecord(request=request, response=TurnResponse(usage=USAGE), start_ns=0, end_ns=1)


class _Sink:
    """Receives the list prices CostModel reports (the telemetry handler's gauge in the runtime)."""

    def __init__(self) -> None:
        self.reports: list[str] = []

    def __call__(self, provider: str, model: str, prices: Any) -> None:
        self.reports.append(model)


class _CountingPricer(Pricer):
    def __init__(self) -> None:
        super().__init__()
        self.list_lookups: list[str] = []

    def list_price(self, request_provider: str, model: str, **kwargs: Any) -> Any:
        self.list_lookups.append(model)
        return super().list_price(request_provider, model, **kwargs)


def test_thousands_of_model_names_log_one_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    model = CostModel(Pricer(), GpuHourPrices(), _Sink())
    for name in NAMES:
        cost, unpriced = model.price(_record(name))
        assert cost is None and unpriced
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1, len(lines)
    assert NAMES[0] in lines[0].getMessage()


def test_per_model_caches_forget_the_oldest_names() -> None:
    """Behaviour of a bounded cache seen from outside: after thousands of other names the first one is looked up again
    (it was evicted), while a recent one is still answered from the cache."""
    pricer = _CountingPricer()
    model = CostModel(pricer, GpuHourPrices(), None)
    for name in NAMES:
        model.list_price("openai", name)
    assert len(pricer.list_lookups) == len(NAMES)
    model.list_price("openai", NAMES[-1])
    assert len(pricer.list_lookups) == len(NAMES)  # recent: cached
    model.list_price("openai", NAMES[0])
    assert pricer.list_lookups[-1] == NAMES[0]  # oldest: evicted, looked up again
    assert MODEL_CACHE_SIZE < len(NAMES)


def test_the_list_price_gauge_is_published_once_per_recent_model() -> None:
    sink = _Sink()
    model = CostModel(Pricer(), GpuHourPrices(), sink)
    for _ in range(3):
        model.price(_record("gpt-4o"))
    assert sink.reports == ["gpt-4o"]  # once per model, not per call


def test_lru_cache_is_bounded_and_keeps_recent_keys() -> None:
    cache: LruCache[str, int] = LruCache(100)
    for i, name in enumerate(NAMES):
        cache.put(name, i)
        cache.get(NAMES[0])  # touched every time: stays
    assert len(cache) == 100
    assert cache.get(NAMES[0]) == 0 and cache.get(NAMES[-1]) == len(NAMES) - 1
    assert cache.get(NAMES[1]) is None
    assert cache.add_new("x", 1) and not cache.add_new("x", 2) and cache.get("x") == 1


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limited_log_one_line_per_reason_then_a_periodic_count(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="test.ratelog")
    clock = _Clock()
    log = RateLimitedLog(logging.getLogger("test.ratelog"), interval_s=60, clock=clock)
    for name in NAMES:
        log.warning("unknown-model", "model %s unknown", name)
    log.warning("other-reason", "something else")
    assert [r.getMessage() for r in caplog.records] == [f"model {NAMES[0]} unknown", "something else"]
    clock.now = 61
    log.warning("unknown-model", "model %s unknown", "latest")
    assert caplog.records[-1].getMessage() == (
        f"model latest unknown ({len(NAMES) - 1} more like this since the last report, not shown)"
    )
    log.warning("unknown-model", "model %s unknown", "held")
    log.flush_counts()
    assert "1 more 'unknown-model' lines" in caplog.records[-1].getMessage()
    assert len(caplog.records) == 4
