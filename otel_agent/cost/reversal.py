"""Price reversal: the cheaper-listed model that costs more on your agent.

The Price Reversal study (arXiv 2603.23971) found that in about a fifth to a third of model pairs the model with the
lower list price costs more in practice, because it thinks more (reasoning tokens are billed as output) and, in
agents, takes more turns or fails more often. This module compares models measured on the same agent: the list
price as price tables show it (`ListPrice.blended`, 3 input : 1 output per million tokens) against what a successful
run really cost.

A pair (a, b) is a reversal when a's blended list price is strictly lower than b's and a's cost per successful run is
higher than b's by more than ``min_excess`` (a fraction; 0 flags any excess). A model that spent money but never
succeeded has an unbounded cost per success: against a model that did succeed that is a reversal with
``cost_ratio = inf``. Models without a list price, without cost, or without runs are profiled but not paired.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import combinations

from ..values import ratio
from .pricing import ListPrice


@dataclass(frozen=True, slots=True)
class ModelRunStats:
    """What one model did on one agent, summed over its runs (cost in `currency`)."""

    model: str
    provider: str
    runs: int
    successful_runs: int
    turns: int
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    total_cost: float = 0.0
    reasoning_cost: float = 0.0
    currency: str = "USD"


@dataclass(frozen=True, slots=True)
class ModelCostProfile:
    model: str
    provider: str
    list_price: ListPrice | None
    blended_list_price: float | None  # per million tokens, 3:1 input:output
    cost_per_run: float | None
    cost_per_turn: float | None
    cost_per_successful_run: float | None  # inf: spent money, never succeeded; None: no cost or no runs
    success_rate: float | None
    turns_per_run: float | None
    thinking_cost_share: float | None  # reasoning cost / total cost
    thinking_token_share: float | None  # reasoning tokens / output tokens


@dataclass(frozen=True, slots=True)
class PriceReversal:
    cheaper_listed: str
    pricier_listed: str
    list_price_ratio: float  # cheaper blended / pricier blended, < 1
    cost_ratio: float  # cheaper cost per successful run / pricier's, > 1 (inf: cheaper never succeeded)
    turns_per_run_ratio: float | None  # cheaper / pricier
    thinking_cost_share: tuple[float | None, float | None]  # (cheaper, pricier)
    success_rate: tuple[float | None, float | None]  # (cheaper, pricier)

    @property
    def listed_discount(self) -> float:
        """How much cheaper the list says it is: 0.78 for "78% cheaper"."""
        return 1 - self.list_price_ratio

    @property
    def extra_cost(self) -> float:
        """How much more it really cost per successful run: 0.22 for "22% more"."""
        return self.cost_ratio - 1


@dataclass(frozen=True, slots=True)
class ReversalReport:
    profiles: tuple[ModelCostProfile, ...]  # by blended list price, unpriced last
    reversals: tuple[PriceReversal, ...]  # largest cost ratio first
    comparable_pairs: int

    @property
    def reversal_rate(self) -> float | None:
        return len(self.reversals) / self.comparable_pairs if self.comparable_pairs else None


def profile(stats: ModelRunStats, list_price: ListPrice | None) -> ModelCostProfile:
    priced = stats.total_cost > 0
    if stats.runs <= 0 or not priced:
        per_success = None
    elif stats.successful_runs > 0:
        per_success = stats.total_cost / stats.successful_runs
    else:
        per_success = math.inf
    return ModelCostProfile(
        model=stats.model,
        provider=stats.provider,
        list_price=list_price,
        blended_list_price=list_price.blended if list_price is not None else None,
        cost_per_run=ratio(stats.total_cost, stats.runs) if priced else None,
        cost_per_turn=ratio(stats.total_cost, stats.turns) if priced else None,
        cost_per_successful_run=per_success,
        success_rate=ratio(stats.successful_runs, stats.runs),
        turns_per_run=ratio(stats.turns, stats.runs),
        thinking_cost_share=ratio(stats.reasoning_cost, stats.total_cost),
        thinking_token_share=ratio(stats.reasoning_tokens, stats.output_tokens),
    )


def analyze_price_reversal(
    stats: Sequence[ModelRunStats],
    list_price: Callable[[str, str], ListPrice | None],
    *,
    min_excess: float = 0.0,
) -> ReversalReport:
    """Profile every model and flag every reversed pair. `list_price(provider, model)` is e.g. `Pricer.list_price`."""
    profiles = [profile(s, list_price(s.provider, s.model)) for s in stats]
    comparable = [p for p in profiles if p.blended_list_price is not None and p.cost_per_successful_run is not None]
    reversals: list[PriceReversal] = []
    pairs = 0
    for x, y in combinations(comparable, 2):
        if x.cost_per_successful_run == math.inf and y.cost_per_successful_run == math.inf:
            continue
        if _blended(x) == _blended(y):
            continue
        pairs += 1
        cheaper, pricier = (x, y) if _blended(x) < _blended(y) else (y, x)
        reversal = _reversal(cheaper, pricier, min_excess)
        if reversal is not None:
            reversals.append(reversal)
    reversals.sort(key=lambda r: r.cost_ratio, reverse=True)
    profiles.sort(key=lambda p: (p.blended_list_price is None, p.blended_list_price or 0.0, p.model))
    return ReversalReport(tuple(profiles), tuple(reversals), pairs)


def _reversal(cheaper: ModelCostProfile, pricier: ModelCostProfile, min_excess: float) -> PriceReversal | None:
    cheap_cost, dear_cost = _per_success(cheaper), _per_success(pricier)
    if cheap_cost == math.inf:
        cost_ratio = math.inf
    elif dear_cost == math.inf:
        return None
    else:
        cost_ratio = cheap_cost / dear_cost
    if cost_ratio <= 1 + min_excess:
        return None
    turns_ratio = (
        cheaper.turns_per_run / pricier.turns_per_run
        if cheaper.turns_per_run is not None and pricier.turns_per_run
        else None
    )
    return PriceReversal(
        cheaper_listed=cheaper.model,
        pricier_listed=pricier.model,
        list_price_ratio=_blended(cheaper) / _blended(pricier),
        cost_ratio=cost_ratio,
        turns_per_run_ratio=turns_ratio,
        thinking_cost_share=(cheaper.thinking_cost_share, pricier.thinking_cost_share),
        success_rate=(cheaper.success_rate, pricier.success_rate),
    )


def _blended(p: ModelCostProfile) -> float:
    assert p.blended_list_price is not None
    return p.blended_list_price


def _per_success(p: ModelCostProfile) -> float:
    assert p.cost_per_successful_run is not None
    return p.cost_per_successful_run
