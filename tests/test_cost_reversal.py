"""Price reversal on constructed per-model stats: one case that must flag, others that must not."""

from __future__ import annotations

import math

import pytest

from otel_agent.cost.pricing import ListPrice
from otel_agent.cost.reversal import ModelRunStats, analyze_price_reversal

PRICES = {
    "flash": ListPrice(model="flash", input=0.5, output=3.0),  # blended (3 x 0.5 + 3) / 4 = 1.125
    "pro": ListPrice(model="pro", input=2.0, output=8.0),  # blended (3 x 2 + 8) / 4 = 3.5
    "mini": ListPrice(model="mini", input=0.25, output=2.0),  # blended (0.75 + 2) / 4 = 0.6875
}


def _price(provider: str, model: str) -> ListPrice | None:
    return PRICES.get(model)


# flash: 10 runs, 5 succeed, 100 turns, $2.00 of which $1.20 thinking -> $0.40 per successful run
FLASH = ModelRunStats(
    model="flash",
    provider="google",
    runs=10,
    successful_runs=5,
    turns=100,
    output_tokens=400_000,
    reasoning_tokens=300_000,
    total_cost=2.0,
    reasoning_cost=1.2,
)
# pro: 10 runs, 8 succeed, 40 turns, $2.40 -> $0.30 per successful run
PRO = ModelRunStats(
    model="pro",
    provider="openai",
    runs=10,
    successful_runs=8,
    turns=40,
    output_tokens=100_000,
    reasoning_tokens=20_000,
    total_cost=2.4,
    reasoning_cost=0.3,
)


def test_cheaper_listed_model_that_costs_more_is_flagged() -> None:
    report = analyze_price_reversal([PRO, FLASH], _price)
    assert report.comparable_pairs == 1 and report.reversal_rate == 1.0
    (reversal,) = report.reversals
    assert (reversal.cheaper_listed, reversal.pricier_listed) == ("flash", "pro")
    assert reversal.list_price_ratio == pytest.approx(1.125 / 3.5)  # listed 68% cheaper
    assert reversal.listed_discount == pytest.approx(1 - 1.125 / 3.5)
    assert reversal.cost_ratio == pytest.approx(0.40 / 0.30)  # but 33% dearer per successful run
    assert reversal.extra_cost == pytest.approx(1 / 3)
    assert reversal.turns_per_run_ratio == pytest.approx(10 / 4)
    assert reversal.thinking_cost_share == pytest.approx((0.6, 0.125))
    assert reversal.success_rate == (0.5, 0.8)


def test_profiles_are_measured_per_turn_and_per_success() -> None:
    report = analyze_price_reversal([PRO, FLASH], _price)
    flash, pro = report.profiles  # sorted by blended list price
    assert flash.model == "flash" and pro.model == "pro"
    assert flash.blended_list_price == pytest.approx(1.125)
    assert flash.cost_per_turn == pytest.approx(0.02)  # $2.00 / 100 turns
    assert flash.cost_per_run == pytest.approx(0.2)
    assert flash.cost_per_successful_run == pytest.approx(0.4)
    assert flash.thinking_cost_share == pytest.approx(0.6)  # $1.20 / $2.00
    assert flash.thinking_token_share == pytest.approx(0.75)
    assert pro.cost_per_turn == pytest.approx(0.06)  # $2.40 / 40 turns


def test_cheaper_listed_model_that_is_cheaper_is_not_flagged() -> None:
    # mini: $0.50 over 10 runs with 5 successes = $0.10 per success, cheaper than pro's $0.30
    mini = ModelRunStats(model="mini", provider="openai", runs=10, successful_runs=5, turns=50, total_cost=0.5)
    report = analyze_price_reversal([mini, PRO], _price)
    assert report.reversals == () and report.comparable_pairs == 1 and report.reversal_rate == 0.0


def test_min_excess_threshold() -> None:
    assert analyze_price_reversal([FLASH, PRO], _price, min_excess=0.5).reversals == ()  # 33% < 50%
    assert len(analyze_price_reversal([FLASH, PRO], _price, min_excess=0.3).reversals) == 1


def test_never_successful_cheap_model_is_an_unbounded_reversal() -> None:
    failing = ModelRunStats(model="mini", provider="openai", runs=5, successful_runs=0, turns=60, total_cost=0.1)
    report = analyze_price_reversal([failing, PRO], _price)
    (reversal,) = report.reversals
    assert reversal.cheaper_listed == "mini" and math.isinf(reversal.cost_ratio)
    # the other way round (the dear model never succeeds) is no reversal
    pro_failing = ModelRunStats(model="pro", provider="openai", runs=5, successful_runs=0, turns=9, total_cost=9.0)
    assert analyze_price_reversal([FLASH, pro_failing], _price).reversals == ()


def test_models_without_list_price_or_cost_are_profiled_not_paired() -> None:
    unknown = ModelRunStats(model="private-ft", provider="openai", runs=3, successful_runs=1, turns=9, total_cost=5.0)
    unpriced = ModelRunStats(model="mini", provider="openai", runs=3, successful_runs=1, turns=9, total_cost=0.0)
    report = analyze_price_reversal([FLASH, PRO, unknown, unpriced], _price)
    assert report.comparable_pairs == 1 and len(report.reversals) == 1
    assert [p.model for p in report.profiles] == ["mini", "flash", "pro", "private-ft"]
    assert report.profiles[-1].blended_list_price is None
    assert report.profiles[0].cost_per_successful_run is None


def test_equal_cost_per_success_is_not_a_reversal() -> None:
    # flash at exactly pro's $0.30 per successful run: 10 successes for $3.00
    level = ModelRunStats(model="flash", provider="google", runs=10, successful_runs=10, turns=50, total_cost=3.0)
    report = analyze_price_reversal([level, PRO], _price)
    assert report.comparable_pairs == 1 and report.reversals == ()
