"""Every dashboard query against the real stack, filled by a real instrumented agent.

The stack (otel_agent_tools.stack.Stack: the built collector, Jaeger, Prometheus with exemplar storage, Alertmanager, on
loopback) receives OTLP from a real agent workload (tests/dashboards/_workload.py) running against the real local model
server. Then every panel target, annotation and variable query of every dashboard runs against Prometheus' (or
Jaeger's) HTTP API with the variables filled as a user who picked `All`, and must succeed AND return data, except the
few targets in ALLOWED_EMPTY, each with the reason this run cannot produce their data.

Two rounds of the workload run, the second after Prometheus has scraped the first, so every counter and histogram
series has a first sample and a later increment (rate(), increase() and histogram_quantile() need both).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from . import _live as live
from . import _promql as promql
from . import _workload as workload
from ._dashboards import Query, all_queries, dashboards, provisioned_datasources, variable_values

pytestmark = pytest.mark.stack

SERVICE = "otel-agent-dashboards-e2e"
BOARD_BY_UID = {board["uid"]: board for board in dashboards().values()}


# --- what may stay empty, and why --------------------------------------------------------------------------------
def _gpu_visible() -> bool:
    """NVML sees a GPU: then the workload's local-endpoint calls are sampled and the GPU panels must fill too."""
    try:
        import pynvml  # nvidia-ml-py

        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount() > 0
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return False


NO_GPU = (
    "needs NVML and a GPU: VRAM-time and the hw.gpu.* gauges are only recorded for local-endpoint calls "
    "sampled on a GPU, and this runner has none (on a GPU runner these targets must return data)"
)
NO_HISTORY = (
    "compares with `offset 1d`: the stack started minutes ago, so there is no day-old baseline; the same "
    "expression without the offset must return data (checked)"
)

# (dashboard uid, panel title, refId) -> reason
ALLOWED_EMPTY: dict[tuple[str, str, str], str] = {
    ("otel-agent-overview", "VRAM-time", "A"): NO_GPU,
    ("otel-agent-gpu", "VRAM-time (time range)", "A"): NO_GPU,
    ("otel-agent-gpu", "VRAM-time per turn by model", "A"): NO_GPU,
    ("otel-agent-gpu", "VRAM held during inference by model", "A"): NO_GPU,
    ("otel-agent-gpu", "GPU utilization", "A"): NO_GPU,
    ("otel-agent-gpu", "GPU memory used", "A"): NO_GPU,
    ("otel-agent-gpu", "GPU memory used", "B"): NO_GPU,
    ("otel-agent-gpu", "GPU memory utilization", "A"): NO_GPU,
    ("otel-agent-cost", "Spend ratio vs the same range a day earlier", "A"): NO_HISTORY,
    ("otel-agent-cost", "Spend rate vs baseline", "B"): NO_HISTORY,
    ("otel-agent-cost", "Spend drift ratio by agent and model", "A"): NO_HISTORY,
    ("otel-agent-cost", "Cost per run vs baseline", "B"): NO_HISTORY,
    ("otel-agent-cost", "Cost per turn vs baseline", "B"): NO_HISTORY,
}


def _allowed_empty(query: Query) -> str | None:
    reason = ALLOWED_EMPTY.get((query.dashboard, query.panel, query.ref_id))
    if reason == NO_GPU and _gpu_visible():
        return None
    return reason


# --- the filled stack -------------------------------------------------------------------------------------------------
@dataclass
class Filled:
    prometheus: str
    jaeger: str
    window: live.Window
    log: list[str]


def _prom_value(prometheus: str, expr: str) -> float:
    answer = live.http_json(f"{prometheus}/api/v1/query", {"query": expr})
    result = (answer.get("data") or {}).get("result") or []
    return float(result[0]["value"][1]) if result else 0.0


def _wait_for(what: str, check: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def filled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    from otel_agent_tools.stack import Stack, StackError, find_binaries
    from tests.stack._support import missing

    try:
        binaries = find_binaries()
    except StackError as exc:
        missing(str(exc))
    model_server = request.getfixturevalue("model_server")
    stack = Stack(fast=True, binaries=binaries)
    import openai
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    import otel_agent
    from tests._model_server_fixture import MODEL_CLIENT_TIMEOUT

    prices_file = tmp_path_factory.mktemp("dashboards-live") / "prices.json"
    prices_file.write_text(json.dumps(workload.PRICES), encoding="utf-8")
    with stack:
        endpoints = stack.endpoints
        resource = Resource.create({"service.name": SERVICE})
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoints.otlp_http}/v1/traces"), schedule_delay_millis=200)
        )
        meter_provider = MeterProvider(
            resource=resource,
            metric_readers=[
                PeriodicExportingMetricReader(
                    OTLPMetricExporter(endpoint=f"{endpoints.otlp_http}/v1/metrics"), export_interval_millis=1000
                )
            ],
        )
        start = time.time()
        otel_agent.instrument(
            tracer_provider=tracer_provider,
            meter_provider=meter_provider,
            service_name=SERVICE,
            model_tiers=workload.TIERS,
            prices_file=str(prices_file),
            gpu_hourly_price=workload.GPU_HOURLY_PRICE,
        )
        log = []
        try:
            client = openai.OpenAI(
                base_url=model_server.openai_base_url,
                api_key="not-needed-locally",
                timeout=MODEL_CLIENT_TIMEOUT,
                max_retries=0,
            )
            runs = f'sum(otel_agent_runs_total{{service_name="{SERVICE}"}})'
            for round_number in (1, 2):
                began = time.monotonic()
                workload.run_round(client)
                tracer_provider.force_flush()
                meter_provider.force_flush()
                expected = round_number * workload.RUNS_PER_ROUND
                _wait_for(
                    f"Prometheus to scrape {expected} runs", lambda: _prom_value(endpoints.prometheus, runs) >= expected
                )
                log.append(f"round {round_number}: {time.monotonic() - began:.1f}s")
            # a few more scrapes after the last change, so rate windows end on data
            time.sleep(5)
        finally:
            otel_agent.uninstrument()
            tracer_provider.shutdown()
            meter_provider.shutdown()
        yield Filled(endpoints.prometheus, endpoints.jaeger_query, live.Window(start - 60, time.time() + 5), log)


def _values(query: Query, window: live.Window) -> dict[str, str]:
    values = window.values(variable_values(BOARD_BY_UID[query.dashboard]))
    values["trace_service"] = SERVICE
    return values


def _run(filled: Filled, query: Query, expr: str | None = None) -> live.Result:
    values = _values(query, filled.window)
    if expr is not None:
        query = Query(
            query.dashboard,
            query.panel,
            query.ref_id,
            query.kind,
            expr,
            query.legend,
            query.instant,
            query.exemplar,
            query.target,
        )
    if query.kind == "jaeger":
        return live.run_jaeger(filled.jaeger, query, values, filled.window)
    return live.run_prometheus(filled.prometheus, query, values, filled.window)


# --- the tests --------------------------------------------------------------------------------------------------------
QUERIES = list(all_queries())


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.id)
def test_query_succeeds_and_returns_data(filled: Filled, query: Query) -> None:
    result = _run(filled, query)
    assert result.ok, f"{query.id}: the API refused the query: {result.detail}\n{query.expr}"
    reason = _allowed_empty(query)
    if reason is None:
        assert result.samples > 0, f"{query.id}: no data from a real agent run ({result.detail})\n{query.expr}"
    elif reason == NO_HISTORY:
        without_offset = re.sub(r"\s+offset 1d", "", query.expr)
        assert without_offset != query.expr, f"{query.id}: allowed for its offset, but it has none"
        again = _run(filled, query, without_offset)
        assert again.ok and again.samples > 0, f"{query.id}: no data even without `offset 1d` ({again.detail})"


def test_allowlist_is_short_and_current() -> None:
    keys = {(q.dashboard, q.panel, q.ref_id) for q in QUERIES}
    stale = set(ALLOWED_EMPTY) - keys
    assert not stale, f"ALLOWED_EMPTY names targets that no longer exist: {sorted(stale)}"
    assert len(ALLOWED_EMPTY) <= 15
    for (uid, panel, ref_id), reason in ALLOWED_EMPTY.items():
        query = next(q for q in QUERIES if (q.dashboard, q.panel, q.ref_id) == (uid, panel, ref_id))
        if reason == NO_HISTORY:
            assert "offset 1d" in query.expr, query.id
        if reason == NO_GPU:
            assert re.search(r"hw_gpu_|otel_agent_gpu_vram_time_total", query.expr), query.id


def test_exemplars_link_to_traces_in_jaeger(filled: Filled) -> None:
    """The exemplar-enabled panel gets trace ids from Prometheus, and each is a trace Jaeger has: the click-through the
    Prometheus datasource's exemplarTraceIdDestinations sets up works end to end."""
    exemplar_queries = [q for q in QUERIES if q.exemplar]
    assert exemplar_queries
    for query in exemplar_queries:
        trace_ids = live.run_exemplars(filled.prometheus, query, _values(query, filled.window), filled.window)
        assert trace_ids, f"{query.id}: no exemplars (Prometheus exemplar storage, OpenMetrics exposition?)"
        for trace_id in trace_ids[:5]:
            _wait_for(f"trace {trace_id} in Jaeger", lambda t=trace_id: live.jaeger_trace(filled.jaeger, t), 30)
            spans = live.jaeger_trace(filled.jaeger, trace_id)[0]["spans"]
            tags = {tag["key"]: tag["value"] for span in spans for tag in span.get("tags", [])}
            assert tags.get("otel_agent.turn.wasted") is True, f"exemplar trace {trace_id} has no wasted turn"


def test_trace_tables_link_to_the_runs_they_promise(filled: Filled) -> None:
    """The Jaeger trace tables find this run's traces, and each trace has the tag the table searches for."""
    for query in (q for q in QUERIES if q.kind == "jaeger"):
        result = _run(filled, query)
        assert result.ok and result.samples, query.id
        wanted = live.logfmt_tags(query.expr)
        for trace in result.raw:
            tags = {
                (tag["key"], json.dumps(tag["value"]).strip('"'))
                for span in trace["spans"]
                for tag in span.get("tags", [])
            }
            assert set(wanted.items()) <= tags, f"{query.id}: trace {trace['traceID']} lacks {wanted}"
            assert any(span["operationName"].startswith("invoke_agent") for span in trace["spans"]), query.id


def test_traces_to_metrics_queries_return_data(filled: Filled) -> None:
    """The Jaeger datasource's tracesToMetrics queries, with $__tags filled from a real span of this run."""
    jaeger_ds = next(ds for ds in provisioned_datasources() if ds["type"] == "jaeger")
    config = jaeger_ds["jsonData"]["tracesToMetrics"]
    traces = live.http_json(f"{filled.jaeger}/api/traces", {"service": SERVICE, "limit": 20})
    span = next(s for t in traces["data"] for s in t["spans"] if s["operationName"].startswith("chat "))
    span_tags = {tag["key"]: tag["value"] for tag in span["tags"]}
    span_tags["service.name"] = SERVICE
    matchers = ", ".join(f'{t["value"]}="{span_tags[t["key"]]}"' for t in config["tags"] if t["key"] in span_tags)
    assert matchers.count("=") == len(config["tags"]), (matchers, sorted(span_tags))
    window = filled.window
    for item in config["queries"]:
        expr = promql.fill(item["query"], {"__tags": matchers})
        answer = live.http_json(
            f"{filled.prometheus}/api/v1/query_range",
            {"query": expr, "start": window.start, "end": window.end, "step": window.step},
        )
        assert answer["status"] == "success", (item["name"], answer)
        assert live.count_samples(answer["data"]) > 0, (item["name"], expr)


def test_report_reads_the_runs_from_jaeger(filled: Filled, capsys: pytest.CaptureFixture[str]) -> None:
    """`otel-agent report --jaeger` over the real Jaeger, checked run by run against the spans Jaeger itself returns."""
    from otel_agent_tools.cli.main import main

    code = main(["report", "--jaeger", filled.jaeger, "--service", SERVICE, "--since", "1h", "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    expected: dict[str, dict[str, int]] = {}
    traces = live.http_json(f"{filled.jaeger}/api/traces", {"service": SERVICE, "limit": 200, "lookback": "1h"})
    for trace in traces["data"]:
        for span in trace["spans"]:
            tags = {tag["key"]: tag["value"] for tag in span.get("tags", [])}
            if tags.get("gen_ai.operation.name") != "chat" or "otel_agent.run.id" not in tags:
                continue
            run = expected.setdefault(tags["otel_agent.run.id"], {"turns": 0, "wasted": 0, "escalations": 0})
            run["turns"] += 1
            run["wasted"] += int(tags.get("otel_agent.turn.wasted") is True)
            run["escalations"] += int(tags.get("otel_agent.escalation.direction") == "up")
    got = {
        r["run_id"]: {"turns": r["turns"], "wasted": r["wasted_turns"], "escalations": r["escalations"]}
        for r in report["runs"]
    }
    assert len(got) == 2 * workload.RUNS_PER_ROUND
    assert got == expected
    assert sum(r["escalations"] for r in got.values()) == 2  # one escalation per round
