"""Pricer against prices worked out by hand.

The per-million-token prices below are copied from the genai-prices data bundled with genai-prices 0.2.3; every
expected dollar figure is computed by hand from them in the comment next to it. If genai-prices changes a price,
these tests fail on purpose: check the new price and update the hand arithmetic.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import Decimal

import genai_prices
import pytest
from genai_prices import data_snapshot, types

from otel_agent.cost.overrides import PriceOverrides, parse_overrides
from otel_agent.cost.pricing import LOCAL_ENDPOINT, NO_MODEL, NO_USAGE, UNKNOWN_MODEL, Pricer
from otel_agent.records import CostBreakdown, Usage

WHEN = datetime(2026, 6, 1, tzinfo=timezone.utc)

# USD per million tokens, from genai-prices 0.2.3
GPT_4O = {"input": 2.50, "cache_read": 1.25, "output": 10.00}
GPT_4O_MINI = {"input": 0.15, "cache_read": 0.075, "output": 0.60}
O3_MINI = {"input": 1.10, "cache_read": 0.55, "output": 4.40}
SONNET_4 = {"input": 3.00, "cache_read": 0.30, "cache_write": 3.75, "output": 15.00}
HAIKU_35 = {"input": 0.80, "cache_read": 0.08, "cache_write": 1.00, "output": 4.00}
SONNET_45 = {"input": 3.00, "cache_read": 0.30, "cache_write": 3.75, "output": 15.00}  # up to 200k input;
# above 200k: $6 / $0.60 / $7.50 / $22.50


@pytest.mark.parametrize(
    ("provider", "model", "prices"),
    [
        ("openai", "gpt-4o", GPT_4O),
        ("openai", "gpt-4o-mini", GPT_4O_MINI),
        ("openai", "o3-mini", O3_MINI),
        ("anthropic", "claude-sonnet-4-20250514", SONNET_4),
        ("anthropic", "claude-3-5-haiku-latest", HAIKU_35),
        ("anthropic", "claude-sonnet-4-5", SONNET_45),
    ],
)
def test_hand_prices_are_the_data(provider: str, model: str, prices: dict[str, float]) -> None:
    """The prices the hand arithmetic below uses are the ones in the data (base tier)."""
    listed = Pricer().list_price(provider, model, when=WHEN)
    assert listed is not None
    assert {key: getattr(listed, key) for key in prices} == prices
    assert listed.reasoning is None  # none of them prices thinking apart from output


@pytest.fixture
def pricer() -> Pricer:
    return Pricer()


def _assert_cost(cost: CostBreakdown | None, **expected: float) -> None:
    assert cost is not None
    for component in ("input", "cache_read", "cache_write", "output", "reasoning", "total"):
        assert getattr(cost, component) == pytest.approx(expected.get(component, 0.0), abs=1e-12), component
    parts = cost.input + cost.cache_read + cost.cache_write + cost.output + cost.reasoning + cost.gpu
    assert parts == pytest.approx(cost.total, abs=1e-12)


def _genai_total(model: str, provider: str, usage: Usage) -> float:
    """genai-prices' own total for the same usage (its Usage has the same conventions as ours)."""
    kwargs = {
        "input_tokens": usage.input_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "output_tokens": usage.output_tokens,
    }
    calc = genai_prices.calc_price(
        genai_prices.Usage(**{k: v for k, v in kwargs.items() if v}),
        model,
        provider_id=provider,
        genai_request_timestamp=WHEN,
    )
    return float(calc.total_price)


def test_openai_gpt_4o_with_cached_input(pricer: Pricer) -> None:
    usage = Usage(input_tokens=10_000, cache_read_tokens=4_000, output_tokens=2_000)
    result = pricer.price("openai", "gpt-4o", usage, when=WHEN)
    assert not result.unpriced and result.reason is None
    _assert_cost(
        result.cost,
        input=0.015,  # 6,000 uncached x $2.50/M
        cache_read=0.005,  # 4,000 cached x $1.25/M
        output=0.020,  # 2,000 x $10/M
        total=0.040,
    )
    assert result.cost is not None
    assert (result.cost.source, result.cost.price_source, result.cost.currency) == ("local", "genai-prices", "USD")
    assert result.matched_model == "gpt-4o"
    assert result.cost.total == pytest.approx(_genai_total("gpt-4o", "openai", usage))


def test_openai_gpt_4o_mini_dated_name(pricer: Pricer) -> None:
    usage = Usage(input_tokens=100_000, cache_read_tokens=60_000, output_tokens=10_000)
    result = pricer.price("openai", "gpt-4o-mini-2024-07-18", usage, when=WHEN)
    _assert_cost(
        result.cost,
        input=0.006,  # 40,000 x $0.15/M
        cache_read=0.0045,  # 60,000 x $0.075/M
        output=0.006,  # 10,000 x $0.60/M
        total=0.0165,
    )


def test_openai_o3_mini_reasoning_tokens_at_output_rate(pricer: Pricer) -> None:
    usage = Usage(input_tokens=20_000, cache_read_tokens=8_000, output_tokens=5_000, reasoning_tokens=3_500)
    result = pricer.price("openai", "o3-mini", usage, when=WHEN)
    _assert_cost(
        result.cost,
        input=0.0132,  # 12,000 x $1.10/M
        cache_read=0.0044,  # 8,000 x $0.55/M
        output=0.0066,  # 1,500 visible x $4.40/M
        reasoning=0.0154,  # 3,500 reasoning x $4.40/M
        total=0.0396,
    )
    assert result.cost is not None
    assert result.cost.total == pytest.approx(_genai_total("o3-mini", "openai", usage))


def test_anthropic_sonnet_cache_read_and_write(pricer: Pricer) -> None:
    # Anthropic reports input_tokens=1,000 (uncached), cache_read=50,000, cache_creation=10,000; by the conventions
    # gen_ai input is their sum, 61,000.
    usage = Usage(
        input_tokens=61_000,
        cache_read_tokens=50_000,
        cache_write_tokens=10_000,
        output_tokens=800,
        reasoning_tokens=500,
    )
    result = pricer.price("anthropic", "claude-sonnet-4-20250514", usage, when=WHEN)
    _assert_cost(
        result.cost,
        input=0.003,  # 1,000 x $3/M
        cache_read=0.015,  # 50,000 x $0.30/M
        cache_write=0.0375,  # 10,000 x $3.75/M (5-minute cache write)
        output=0.0045,  # 300 visible x $15/M
        reasoning=0.0075,  # 500 thinking x $15/M
        total=0.0675,
    )
    assert result.cost is not None
    assert result.cost.total == pytest.approx(_genai_total("claude-sonnet-4-20250514", "anthropic", usage))


def test_anthropic_haiku(pricer: Pricer) -> None:
    usage = Usage(input_tokens=12_000, cache_read_tokens=10_000, cache_write_tokens=0, output_tokens=500)
    result = pricer.price("anthropic", "claude-3-5-haiku-latest", usage, when=WHEN)
    _assert_cost(
        result.cost,
        input=0.0016,  # 2,000 x $0.80/M
        cache_read=0.0008,  # 10,000 x $0.08/M
        output=0.002,  # 500 x $4/M
        total=0.0044,
    )


def test_long_context_tier_applies_to_every_token_type(pricer: Pricer) -> None:
    # claude-sonnet-4-5: $3/$0.30/$3.75/$15 up to 200k input tokens, $6/$0.60/$7.50/$22.50 above (cache included)
    short = Usage(input_tokens=150_000, cache_read_tokens=100_000, output_tokens=1_000)
    _assert_cost(
        pricer.price("anthropic", "claude-sonnet-4-5", short, when=WHEN).cost,
        input=0.15,  # 50,000 x $3/M
        cache_read=0.03,  # 100,000 x $0.30/M
        output=0.015,  # 1,000 x $15/M
        total=0.195,
    )
    long = Usage(input_tokens=260_000, cache_read_tokens=200_000, cache_write_tokens=10_000, output_tokens=1_000)
    result = pricer.price("anthropic", "claude-sonnet-4-5", long, when=WHEN)
    _assert_cost(
        result.cost,
        input=0.30,  # 50,000 x $6/M
        cache_read=0.12,  # 200,000 x $0.60/M
        cache_write=0.075,  # 10,000 x $7.50/M
        output=0.0225,  # 1,000 x $22.50/M
        total=0.5175,
    )
    assert result.cost is not None
    assert result.cost.total == pytest.approx(_genai_total("claude-sonnet-4-5", "anthropic", long))


def test_reasoning_above_output_is_clamped(pricer: Pricer) -> None:
    usage = Usage(input_tokens=0, output_tokens=1_000, reasoning_tokens=5_000)
    _assert_cost(
        pricer.price("openai", "gpt-4o", usage, when=WHEN).cost, reasoning=0.01, total=0.01
    )  # 1,000 (not 5,000) x $10/M


def test_server_address_picks_the_provider(pricer: Pricer) -> None:
    # the OpenAI SDK pointed at Groq: priced as Groq's model, not unknown to OpenAI
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    result = pricer.price("openai", "llama-3.3-70b-versatile", usage, server_address="api.groq.com", when=WHEN)
    assert not result.unpriced
    assert result.matched_model == "llama-3.3-70b-versatile"
    assert pricer.price("openai", "llama-3.3-70b-versatile", usage, when=WHEN).unpriced


def test_semconv_provider_names_map_to_genai_prices(pricer: Pricer) -> None:
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    result = pricer.price("aws.bedrock", "anthropic.claude-3-5-haiku-20241022-v1:0", usage, when=WHEN)
    _assert_cost(result.cost, input=0.80, output=4.00, total=4.80)  # 1M x $0.80 + 1M x $4


def test_local_endpoint_is_not_list_priced(pricer: Pricer) -> None:
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    # gpt-oss-20b has an OpenAI list price, but this one runs on localhost
    local = pricer.price("openai", "gpt-oss-20b", usage, server_address="127.0.0.1", when=WHEN)
    assert local.unpriced and local.cost is None and local.reason == LOCAL_ENDPOINT
    assert pricer.list_price("openai", "gpt-oss-20b", server_address="127.0.0.1") is None
    assert pricer.list_price("openai", "gpt-oss-20b") is not None
    proxy = Pricer(price_local_endpoints=True).price("openai", "gpt-4o", usage, server_address="localhost", when=WHEN)
    _assert_cost(proxy.cost, input=0.0025, output=0.01, total=0.0125)


def test_unknown_model_is_unpriced_and_logged_once_per_reason(pricer: Pricer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="otel_agent.cost")
    usage = Usage(input_tokens=1_000, output_tokens=1_000)
    results = [pricer.price("openai", "my-private-finetune", usage) for _ in range(50)]
    results += [pricer.price("nobody-knows", "whatever-7b", usage) for _ in range(5)]
    assert all(r.unpriced and r.cost is None and r.reason == UNKNOWN_MODEL for r in results)
    records = [r for r in caplog.records if r.name == "otel_agent.cost"]
    assert len(records) == 1  # one line per reason; later misses are counted (see test_bounded_state)
    assert "my-private-finetune" in records[0].getMessage()


def test_no_model_is_unpriced(pricer: Pricer) -> None:
    result = pricer.price("openai", None, Usage(input_tokens=5, output_tokens=5))
    assert result.unpriced and result.reason == NO_MODEL


def test_missing_usage_is_unpriced_not_free(pricer: Pricer) -> None:
    result = pricer.price("openai", "gpt-4o", Usage())
    assert result.unpriced and result.cost is None and result.reason == NO_USAGE
    only_input = pricer.price("openai", "gpt-4o", Usage(input_tokens=1_000_000))
    _assert_cost(only_input.cost, input=2.5, total=2.5)  # an embeddings call has no output: priced


def test_user_price_wins_over_genai_prices() -> None:
    overrides = PriceOverrides(tuple(parse_overrides({"gpt-4o": {"input": 1.0, "output": 2.0}}, "test")))
    result = Pricer(overrides).price("openai", "gpt-4o", Usage(input_tokens=1_000_000, output_tokens=500_000))
    _assert_cost(result.cost, input=1.0, output=1.0, total=2.0)  # 1M x $1 + 0.5M x $2
    assert result.cost is not None and result.cost.price_source == "user"


def test_lookups_are_cached_per_provider_and_model(pricer: Pricer, monkeypatch: pytest.MonkeyPatch) -> None:
    from otel_agent.cost import pricing

    calls = []
    real = pricing._lookup
    monkeypatch.setattr(pricing, "_lookup", lambda *a: calls.append(a[1:]) or real(*a))
    usage = Usage(input_tokens=10, output_tokens=10)
    for _ in range(20):
        pricer.price("openai", "gpt-4o", usage)
        pricer.price("openai", "unknown-x", usage)
    assert calls == [("openai", "gpt-4o", None), ("openai", "unknown-x", None)]


def test_list_price_and_blend(pricer: Pricer) -> None:
    price = pricer.list_price("openai", "gpt-4o", when=WHEN)
    assert price is not None
    assert (price.input, price.output, price.cache_read) == (2.5, 10.0, 1.25)
    assert price.blended == pytest.approx((3 * 2.5 + 10.0) / 4)  # 4.375
    long = pricer.list_price("anthropic", "claude-sonnet-4-5", when=WHEN)
    assert long is not None and long.tiered and long.input == 3.0  # base tier
    assert pricer.list_price("openai", "not-a-model") is None


def test_no_network_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx2

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(httpx2, "get", no_network)
    result = Pricer().price("openai", "gpt-4o-mini", Usage(input_tokens=1_000_000, output_tokens=0), when=WHEN)
    _assert_cost(result.cost, input=0.15, total=0.15)


def test_refresh_swaps_in_fetched_data(monkeypatch: pytest.MonkeyPatch) -> None:
    fetched = data_snapshot.DataSnapshot(
        providers=[
            types.Provider(
                id="openai",
                name="OpenAI",
                api_pattern=r"https://api\.openai\.com",
                models=[
                    types.ModelInfo(
                        id="gpt-4o",
                        match=types.ClauseEquals(equals="gpt-4o"),
                        prices=types.ModelPrice(input_mtok=Decimal(100), output_mtok=Decimal(200)),
                    )
                ],
            )
        ],
        from_auto_update=True,
    )
    monkeypatch.setattr(genai_prices.UpdatePrices, "fetch", lambda self: fetched)
    pricer = Pricer()
    usage = Usage(input_tokens=1_000_000, output_tokens=0)
    try:
        _assert_cost(pricer.price("openai", "gpt-4o", usage).cost, input=2.5, total=2.5)
        assert pricer.refresh(timeout_s=10) is True
        _assert_cost(pricer.price("openai", "gpt-4o", usage).cost, input=100.0, total=100.0)
    finally:
        data_snapshot.set_custom_snapshot(None)
