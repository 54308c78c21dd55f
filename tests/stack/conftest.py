"""Fixtures for the backend-stack tests.

Static checks (test_static_configs.py) run in every test run; the ones needing a binary skip when it is not built.
End-to-end tests carry the `stack` marker and run when selected (`pytest -m stack tests/stack`) or when
OTEL_AGENT_STACK_TESTS=1; they need `collector/build.sh` to have run. With OTEL_AGENT_STACK_REQUIRE=1 (CI) a
missing binary fails instead of skipping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from otel_agent_tools.stack import Stack, StackError, collector_dir, find_binaries
from otel_agent_tools.stack.clients import Alertmanager, Jaeger, Prometheus
from otel_agent_tools.stack.synthetic import EmittedRun, SyntheticAgentTelemetry, scenario

from ._support import missing


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    selected = "stack" in (config.getoption("markexpr", "") or "") or os.environ.get("OTEL_AGENT_STACK_TESTS") == "1"
    if selected:
        return
    skip = pytest.mark.skip(reason="stack end-to-end test: run with `pytest -m stack` (or OTEL_AGENT_STACK_TESTS=1)")
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("stack") and here in Path(str(item.fspath)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def cdir() -> Path:
    return collector_dir()


@pytest.fixture(scope="session")
def collector_bin(cdir: Path) -> Path:
    path = Path(os.environ.get("OTEL_AGENT_COLLECTOR_BIN") or cdir / "_build" / "bin" / "otelcol-agent")
    if not path.is_file():
        missing(str(path))
    return path


@pytest.fixture(scope="session")
def jaeger_bin(cdir: Path) -> Path:
    path = Path(os.environ.get("OTEL_AGENT_JAEGER_BIN") or cdir / "_build" / "bin" / "jaeger")
    if not path.is_file():
        missing(str(path))
    return path


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """One single-node stack (fast intervals, free loopback ports) per test module."""
    try:
        binaries = find_binaries()
    except StackError as exc:
        missing(str(exc))
    with Stack(fast=True, binaries=binaries) as running:
        yield running


@pytest.fixture(scope="module")
def jaeger(stack: Stack) -> Jaeger:
    return Jaeger(stack.endpoints.jaeger_query)


@pytest.fixture(scope="module")
def prometheus(stack: Stack) -> Prometheus:
    return Prometheus(stack.endpoints.prometheus)


@pytest.fixture(scope="module")
def alertmanager(stack: Stack) -> Alertmanager:
    return Alertmanager(stack.endpoints.alertmanager)


EmitAgentRun = Callable[..., EmittedRun]


@pytest.fixture(scope="module")
def emit_agent_run(stack: Stack) -> Iterator[EmitAgentRun]:
    """``emit_agent_run(kind, *, service, agent="e2e-agent", cost_scale=1.0) -> EmittedRun``.

    Performs one agent run of the named scenario (clean, wasted, escalated, expensive, failed, failed_outcome, long;
    see otel_agent_tools.stack.synthetic.scenario) whose telemetry goes to the stack's collector, flushes it, and returns
    what was emitted (trace id, span names, token/cost/turn totals). The assertions use only that return value, so a
    fixture with the same signature driving a real instrumented agent (e.g. against the local model server) can
    replace this synthetic one without touching the tests.
    """
    emitters: dict[str, SyntheticAgentTelemetry] = {}

    def emit(kind: str, *, service: str, agent: str = "e2e-agent", cost_scale: float = 1.0) -> EmittedRun:
        emitter = emitters.get(service)
        if emitter is None:
            emitter = emitters[service] = SyntheticAgentTelemetry(stack.endpoints.otlp_http, service)
        run = emitter.emit(scenario(kind, agent=agent, cost_scale=cost_scale))
        emitter.flush()
        return run

    yield emit
    for emitter in emitters.values():
        emitter.shutdown()
