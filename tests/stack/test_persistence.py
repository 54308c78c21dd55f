"""The stack loses nothing it accepted: persistence across `stack down`/`up`, Jaeger killed under load, the collector
killed with `kill -9` while its persistent queue holds spans, and a full queue counted exactly.

The real binaries on loopback (stack marker). Spans go in as OTLP/JSON requests sent once each, without retries, so
every count is exact: what the collector accepted (HTTP 200) must be in Jaeger, span for span, and what it refused
must be in its own counter (otelcol_exporter_enqueue_failed_spans), both read through Jaeger's and Prometheus'
HTTP APIs.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from otel_agent_tools.stack import Stack, StackError, find_binaries
from otel_agent_tools.stack.clients import Jaeger, Prometheus, SentTraces, wait_for

from ._support import missing

pytestmark = pytest.mark.stack

SPANS = 5  # spans per trace


@pytest.fixture(scope="module")
def binaries():  # type: ignore[no-untyped-def]
    try:
        return find_binaries()
    except StackError as exc:
        missing(str(exc))


@contextlib.contextmanager
def _fresh_stack(workdir: Path, binaries, **kwargs) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    stack = Stack(workdir, fast=True, binaries=binaries, keep_workdir=True, **kwargs)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def _found(jaeger: Jaeger, service: str) -> dict[str, int]:
    return jaeger.span_counts(service)


def _wait_all(jaeger: Jaeger, service: str, sent: SentTraces, timeout: float = 90.0) -> dict[str, int]:
    """Wait until every accepted trace is in Jaeger with every span; returns what Jaeger holds for the service."""

    def probe() -> dict[str, int] | None:
        found = _found(jaeger, service)
        return found if all(found.get(t) == n for t, n in sent.accepted.items()) else None

    try:
        return wait_for(probe, timeout, interval=0.5, what=f"{len(sent.accepted)} traces of {service} in Jaeger")
    except TimeoutError:
        found = _found(jaeger, service)
        lost = {t: (n, found.get(t, 0)) for t, n in sent.accepted.items() if found.get(t) != n}
        pytest.fail(f"{len(lost)} of {len(sent.accepted)} accepted traces incomplete in Jaeger (sent, found): {lost}")


def _telemetry(stack: Stack, metric: str, **labels: str) -> float:
    """Sum of one of the collector's own counters, read from its telemetry endpoint (the process now running)."""
    from urllib.request import urlopen

    with urlopen(stack.endpoints.collector_telemetry, timeout=5) as response:
        text = response.read().decode()
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(metric + "{") and not line.startswith(metric + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _prometheus_value(prometheus: Prometheus, expr: str, expected: float, timeout: float = 30.0) -> float:
    """Wait until Prometheus has scraped ``expected`` for ``expr`` (it scrapes every second in fast mode)."""
    try:
        return wait_for(lambda: (v := prometheus.scalar(expr)) == expected and v is not None, timeout, 0.5, expr)
    except TimeoutError:
        pytest.fail(f"Prometheus: {expr} = {prometheus.scalar(expr)}, expected {expected}")


# --- persistence across `stack down` / `stack up` --------------------------------------------------------------------
def _cli(state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "otel_agent_tools.cli.main", "stack", "--state-dir", str(state_dir), *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_stack_down_then_up_serves_every_earlier_trace_and_series(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    state_dir = tmp_path / "state"
    up = _cli(state_dir, "up", "--random-ports", "--fast", "--format", "json")
    assert up.returncode == 0, up.stderr
    try:
        endpoints = json.loads(up.stdout)["endpoints"]
        jaeger, prometheus = Jaeger(endpoints["jaeger_query"]), Prometheus(endpoints["prometheus"])
        service = "persist-test"
        sent = SentTraces()
        for _ in range(20):
            assert sent.send(endpoints["otlp_http"], service, traces=3, spans_per_trace=SPANS) == 200
        assert len(_wait_all(jaeger, service, sent)) == 60
        calls = f'sum(traces_span_metrics_calls_total{{service_name="{service}"}})'
        _prometheus_value(prometheus, calls, float(sent.accepted_spans))
        before = time.time()

        down = _cli(state_dir, "down")
        assert down.returncode == 0, down.stderr
        assert "data kept" in down.stdout
        assert not Path(state_dir / "state.json").exists()
        assert (state_dir / "run" / "jaeger-data").is_dir()

        again = _cli(state_dir, "up", "--random-ports", "--fast", "--format", "json")
        assert again.returncode == 0, again.stderr
        endpoints = json.loads(again.stdout)["endpoints"]
        jaeger, prometheus = Jaeger(endpoints["jaeger_query"]), Prometheus(endpoints["prometheus"])
        assert _found(jaeger, service) == sent.accepted  # every trace, every span, nothing else
        assert prometheus.scalar(calls, at=before) == float(sent.accepted_spans)  # the earlier series, same value
    finally:
        _cli(state_dir, "down", "--purge")
    assert not state_dir.exists()


def test_stack_up_restarts_only_the_dead_processes(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    state_dir = tmp_path / "state"
    up = _cli(state_dir, "up", "--random-ports", "--fast", "--format", "json")
    assert up.returncode == 0, up.stderr
    try:
        pids = {p["name"]: p["pid"] for p in json.loads(up.stdout)["processes"]}
        os.kill(pids["jaeger"], signal.SIGKILL)
        wait_for(lambda: _cli(state_dir, "status").returncode == 4, 10, what="status to see Jaeger down")
        again = _cli(state_dir, "up", "--random-ports", "--fast", "--format", "json")
        assert again.returncode == 0, again.stderr
        state = json.loads(again.stdout)
        assert state["already_running"] == sorted(set(pids) - {"jaeger"})
        now = {p["name"]: p["pid"] for p in state["processes"]}
        assert now["jaeger"] != pids["jaeger"]
        assert {k: v for k, v in now.items() if k != "jaeger"} == {k: v for k, v in pids.items() if k != "jaeger"}
        assert _cli(state_dir, "status").returncode == 0
    finally:
        _cli(state_dir, "down", "--purge")


# --- faults under load -----------------------------------------------------------------------------------------------
def test_jaeger_killed_while_traces_flow_then_restarted_every_trace_arrives(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    with _fresh_stack(tmp_path / "run", binaries) as stack:
        service = "jaeger-kill-test"
        sent = SentTraces()
        stop = threading.Event()

        def flow() -> None:
            while not stop.is_set():
                sent.send(stack.endpoints.otlp_http, service, traces=2, spans_per_trace=SPANS)
                time.sleep(0.02)

        sender = threading.Thread(target=flow)
        sender.start()
        try:
            time.sleep(1.5)
            os.kill(stack.processes["jaeger"].pid, signal.SIGKILL)  # type: ignore[arg-type]
            stack.processes["jaeger"].stop()  # reap it
            at_kill = len(sent.accepted)
            time.sleep(3.0)  # traces keep flowing into the collector while Jaeger is gone
            during_outage = len(sent.accepted) - at_kill
            stack.start_component("jaeger")
            time.sleep(1.0)
        finally:
            stop.set()
            sender.join()
        assert sent.refused == {}, f"the collector refused requests: {set(sent.statuses)}"
        assert len(sent.accepted) > 100
        found = _wait_all(Jaeger(stack.endpoints.jaeger_query), service, sent)
        assert found == sent.accepted
        assert during_outage > 20  # traces the collector accepted while Jaeger was dead: they arrived too
        accepted = 'sum(otelcol_receiver_accepted_spans{receiver="otlp"})'
        _prometheus_value(Prometheus(stack.endpoints.prometheus), accepted, float(sent.accepted_spans))


def test_collector_kill_9_holding_queued_spans_then_restarted_every_span_arrives(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    with _fresh_stack(tmp_path / "run", binaries) as stack:
        service = "collector-kill-test"
        stack.stop_component("jaeger")  # nothing can leave the collector: everything it accepts waits in its queue
        sent = SentTraces()
        for _ in range(40):
            assert sent.send(stack.endpoints.otlp_http, service, traces=5, spans_per_trace=SPANS) == 200
        assert _telemetry(stack, "otelcol_exporter_queue_size") > 0
        collector = stack.processes["collector"]
        os.kill(collector.pid, signal.SIGKILL)  # type: ignore[arg-type]
        collector.stop()  # reap it
        stack.start_component("collector")  # same queue directory
        stack.start_component("jaeger")
        found = _wait_all(Jaeger(stack.endpoints.jaeger_query), service, sent)
        assert found == sent.accepted and sent.accepted_spans == 1000
        # the restarted collector received nothing, yet it sent every span: all of them came from the disk queue
        assert _telemetry(stack, "otelcol_receiver_accepted_spans") == 0
        sent_by_new = 'sum(otelcol_exporter_sent_spans{exporter="otlp_grpc/jaeger"})'
        _prometheus_value(Prometheus(stack.endpoints.prometheus), sent_by_new, 1000.0)


def test_full_queue_refuses_and_counts_exactly_what_it_could_not_hold(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    with _fresh_stack(
        tmp_path / "run", binaries, collector_env={"OTEL_AGENT_QUEUE_SIZE": "100", "OTEL_AGENT_BATCH_MIN_SIZE": "10"}
    ) as stack:
        service = "queue-full-test"
        stack.stop_component("jaeger")
        sent = SentTraces()
        for _ in range(30):
            sent.send(stack.endpoints.otlp_http, service, traces=2, spans_per_trace=SPANS)
        assert sent.accepted_spans == 100  # the queue holds 100 spans, accepted whole requests of 10 until full
        assert sent.refused_spans == 200 and all(s not in (0, 200) for s in sent.statuses[10:])
        refused = 'sum(otelcol_exporter_enqueue_failed_spans{exporter="otlp_grpc/jaeger"})'
        _prometheus_value(Prometheus(stack.endpoints.prometheus), refused, 200.0)
        stack.start_component("jaeger")
        found = _wait_all(Jaeger(stack.endpoints.jaeger_query), service, sent)
        assert found == sent.accepted  # what was accepted arrives; what was refused was refused, and counted


def test_collector_answers_describe_the_refusal(tmp_path: Path, binaries) -> None:  # type: ignore[no-untyped-def]
    """A refused request gets a retryable status (the SDK's exporter retries 429/502/503/504)."""
    with _fresh_stack(
        tmp_path / "run", binaries, collector_env={"OTEL_AGENT_QUEUE_SIZE": "10", "OTEL_AGENT_BATCH_MIN_SIZE": "10"}
    ) as stack:
        stack.stop_component("jaeger")
        sent = SentTraces()
        statuses = [
            sent.send(stack.endpoints.otlp_http, "refusal-test", traces=2, spans_per_trace=SPANS) for _ in range(3)
        ]
        assert statuses[0] == 200
        assert set(statuses[1:]) <= {429, 503}, statuses
