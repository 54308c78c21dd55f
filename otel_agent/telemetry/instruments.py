"""The metric instruments, created once from the specs in `names`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import Meter

from . import names as n
from .aggregated import AggregatedCounter


def _create(meter: Meter, spec: n.MetricSpec) -> Any:
    if spec.kind == "histogram":
        return meter.create_histogram(
            spec.name,
            unit=spec.unit,
            description=spec.description,
            explicit_bucket_boundaries_advisory=list(spec.buckets or ()),
        )
    if spec.kind == "counter":
        return meter.create_counter(spec.name, unit=spec.unit, description=spec.description)
    if spec.kind == "updown_counter":
        return meter.create_up_down_counter(spec.name, unit=spec.unit, description=spec.description)
    if spec.kind == "gauge":
        return meter.create_gauge(spec.name, unit=spec.unit, description=spec.description)
    raise ValueError(spec.kind)


@dataclass(slots=True)
class Instruments:
    token_usage: Any
    operation_duration: Any
    time_to_first_chunk: Any
    time_per_output_chunk: Any
    operation_cost: Any
    latest_tokens: dict[str, Any] | None
    latest_operation_tokens: dict[str, Any] | None
    tokens: Any
    cost: Any
    unpriced: Any
    list_price: Any
    runs: Any
    turns: Any
    escalations: Any
    resent_tokens: Any
    run_duration: Any
    run_turns: Any
    run_cost: Any
    run_tokens: Any
    run_score: Any
    vram_time: Any
    tool_calls: Any
    hw_gpu_utilization: Any
    hw_gpu_memory_usage: Any
    hw_gpu_memory_limit: Any
    hw_gpu_memory_utilization: Any

    @classmethod
    def create(cls, meter: Meter, *, latest: bool) -> Instruments:
        def make(spec: n.MetricSpec) -> Any:
            return _create(meter, spec)

        def summed(spec: n.MetricSpec) -> AggregatedCounter:
            return AggregatedCounter(meter, spec)

        return cls(
            token_usage=make(n.M_TOKEN_USAGE),
            operation_duration=make(n.M_OPERATION_DURATION),
            time_to_first_chunk=make(n.M_TIME_TO_FIRST_CHUNK),
            time_per_output_chunk=make(n.M_TIME_PER_OUTPUT_CHUNK),
            operation_cost=make(n.M_OPERATION_COST),
            latest_tokens={k: summed(s) for k, s in n.M_LATEST_TOKEN_COUNTERS.items()} if latest else None,
            latest_operation_tokens={k: make(s) for k, s in n.M_LATEST_OPERATION_TOKENS.items()} if latest else None,
            tokens=summed(n.M_TOKENS),
            cost=summed(n.M_COST),
            unpriced=summed(n.M_UNPRICED),
            list_price=make(n.M_LIST_PRICE),
            runs=summed(n.M_RUNS),
            turns=make(n.M_TURNS),
            escalations=make(n.M_ESCALATIONS),
            resent_tokens=summed(n.M_RESENT_TOKENS),
            run_duration=make(n.M_RUN_DURATION),
            run_turns=make(n.M_RUN_TURNS),
            run_cost=make(n.M_RUN_COST),
            run_tokens=make(n.M_RUN_TOKENS),
            run_score=make(n.M_RUN_SCORE),
            vram_time=summed(n.M_VRAM_TIME),
            tool_calls=summed(n.M_TOOL_CALLS),
            hw_gpu_utilization=make(n.M_HW_GPU_UTILIZATION),
            hw_gpu_memory_usage=make(n.M_HW_GPU_MEMORY_USAGE),
            hw_gpu_memory_limit=make(n.M_HW_GPU_MEMORY_LIMIT),
            hw_gpu_memory_utilization=make(n.M_HW_GPU_MEMORY_UTILIZATION),
        )
