"""End to end through the real collector, Jaeger, Prometheus and Alertmanager processes (marker `stack`).

    collector/build.sh && pytest -m stack tests/stack

Telemetry comes from the `emit_agent_run` fixture (conftest.py): one agent run per call, returning what it
emitted. Every expected value below is derived from those returns, never hard-coded, so the fixture can be swapped
for a real instrumented agent.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from otel_agent.telemetry import names as n
from otel_agent_tools.stack import Stack, collector_process, find_binaries, free_ports
from otel_agent_tools.stack.clients import Alertmanager, Jaeger, OtlpTraceSink, Prometheus, get_json, wait_for
from otel_agent_tools.stack.synthetic import EmittedRun, SyntheticAgentTelemetry, scenario, totals

from .conftest import EmitAgentRun

pytestmark = pytest.mark.stack
G = n.GenAINames.resolve(latest=False)


# --- traces in Jaeger -------------------------------------------------------------------------------------------------------
def test_trace_holds_agent_turn_and_tool_spans(emit_agent_run: EmitAgentRun, jaeger: Jaeger) -> None:
    service = "e2e-traces"
    wasted = emit_agent_run("wasted", service=service)
    escalated = emit_agent_run("escalated", service=service)

    spans = jaeger.wait_trace(wasted.trace_id, wasted.span_count)
    assert sorted(s.name for s in spans) == sorted(wasted.span_names)
    root = next(s for s in spans if s.name == n.span_name(n.OPERATION_INVOKE_AGENT, wasted.agent))
    assert root.parent_id is None
    assert root.tags[G.operation] == n.OPERATION_INVOKE_AGENT
    assert root.tags[n.RUN_TURNS] == wasted.turns
    assert root.tags[n.RUN_WASTED_TURNS] == wasted.wasted_turns == 1
    assert root.tags[n.RUN_ESCALATIONS] == 0
    assert root.tags[n.RUN_INPUT_TOKENS] == wasted.tokens["input"]
    assert root.tags[n.RUN_REASONING_TOKENS] == wasted.tokens["reasoning"]
    assert math.isclose(root.tags[n.RUN_COST], wasted.cost_total)
    assert root.tags[n.RUN_OUTCOME] == wasted.outcome

    turns = sorted(
        (s for s in spans if s.tags.get(G.operation) == n.OPERATION_CHAT), key=lambda s: s.tags[n.TURN_INDEX]
    )
    assert [t.tags[n.TURN_INDEX] for t in turns] == list(range(1, wasted.turns + 1))  # turns count from 1
    assert all(t.parent_id == root.span_id for t in turns)
    assert [t.tags[n.TURN_WASTED] for t in turns].count(True) == wasted.wasted_turns
    flagged = next(t for t in turns if t.tags[n.TURN_WASTED])
    assert flagged.tags[n.TURN_WASTE_REASON]
    assert sum(t.tags[G.usage_output] for t in turns) == wasted.tokens["output"]
    assert sum(t.tags[G.usage_reasoning] for t in turns) == wasted.tokens["reasoning"]
    assert math.isclose(sum(t.tags[G.cost_amount] for t in turns), wasted.cost_total)
    tools = [s for s in spans if s.tags.get(G.operation) == n.OPERATION_EXECUTE_TOOL]
    assert tools and all(
        t.parent_id == root.span_id and G.tool_name in t.tags and n.TOOL_TURN_INDEX in t.tags for t in tools
    )

    spans = jaeger.wait_trace(escalated.trace_id, escalated.span_count)
    root = next(s for s in spans if s.parent_id is None)
    assert root.tags[n.RUN_ESCALATIONS] == escalated.escalations == 1
    events = [e for s in spans for e in s.events if e.get("event") == n.ESCALATION_EVENT]
    assert len(events) == 1
    assert events[0][n.ESCALATION_DIRECTION] == "up"
    assert events[0][n.ESCALATION_FROM_MODEL] != events[0][n.ESCALATION_TO_MODEL]

    # the v3 (OTLP JSON) API and the services list agree
    v3 = jaeger.trace_v3(escalated.trace_id)
    assert v3 is not None
    v3_spans = [s for rs in v3["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    assert len(v3_spans) == escalated.span_count
    assert service in jaeger.services()


# --- metrics in Prometheus ----------------------------------------------------------------------------------------------------
def test_prometheus_series_hold_the_emitted_values_with_exemplars(
    emit_agent_run: EmitAgentRun, prometheus: Prometheus
) -> None:
    service = "e2e-metrics"
    sel = f'service_name="{service}"'
    runs: list[EmittedRun] = []
    # exemplars reach Prometheus only from scrapes taken while fresh measurements are exported: keep the agent busy
    # until Prometheus holds some, then compare every total
    deadline = time.monotonic() + 60
    kinds = ["clean", "wasted", "escalated", "expensive"]
    exemplars: list[dict] = []
    while time.monotonic() < deadline and (len(runs) < 8 or not exemplars):
        runs.append(emit_agent_run(kinds[len(runs) % len(kinds)], service=service))
        time.sleep(0.3)
        if len(runs) >= 8 and len(runs) % 4 == 0:
            # counters are summed in process (observable, no exemplars); the per-call cost histogram carries them
            exemplars = prometheus.exemplars(f"gen_ai_client_operation_cost_bucket{{{sel}}}")
    assert exemplars, "no exemplars on gen_ai_client_operation_cost"
    expected = totals(runs)

    def settled() -> bool:
        return prometheus.scalar(f"sum(otel_agent_runs_total{{{sel}}})") == expected["runs"]

    wait_for(settled, 30, what="otel_agent_runs_total to reach the emitted run count")
    tokens = prometheus.by_label(f"sum by (gen_ai_token_type) (otel_agent_tokens_total{{{sel}}})", "gen_ai_token_type")
    assert tokens == {k: float(v) for k, v in expected["tokens"].items()}
    cost = prometheus.scalar(f"sum(otel_agent_cost_total{{{sel}}})")
    assert cost is not None and math.isclose(cost, expected["cost_total"], rel_tol=1e-9)
    by_component = prometheus.by_label(
        f"sum by (otel_agent_cost_component) (otel_agent_cost_total{{{sel}}})", "otel_agent_cost_component"
    )
    assert by_component.keys() == expected["cost"].keys()
    assert prometheus.scalar(f"sum(otel_agent_turns_total{{{sel}}})") == expected["turns"]
    assert (
        prometheus.scalar(f'sum(otel_agent_turns_total{{{sel}, otel_agent_turn_wasted="true"}})')
        == expected["wasted_turns"]
    )
    assert (
        prometheus.scalar(f'sum(otel_agent_escalations_total{{{sel}, otel_agent_escalation_direction="up"}})')
        == expected["escalations"]
    )
    run_cost_count = prometheus.scalar(f"sum(otel_agent_run_cost_count{{{sel}}})")
    assert run_cost_count == expected["runs"]
    # token histogram of the GenAI conventions
    assert (
        prometheus.scalar(f'sum(gen_ai_client_token_usage_sum{{{sel}, gen_ai_token_type="output"}})')
        == expected["tokens"]["output"]
    )

    # span metrics: one call per chat span, computed by the collector from the traces
    def chat_calls() -> float | None:
        value = prometheus.scalar(f'sum(traces_span_metrics_calls_total{{{sel}, gen_ai_operation_name="chat"}})')
        return value if value == expected["turns"] else None

    wait_for(chat_calls, 30, what="span metrics to count every chat span")
    wasted_calls = prometheus.scalar(f'sum(traces_span_metrics_calls_total{{{sel}, otel_agent_turn_wasted="true"}})')
    assert wasted_calls == expected["wasted_turns"]
    assert prometheus.query(f'traces_span_metrics_duration_seconds_bucket{{{sel}, gen_ai_request_model!=""}}')

    # exemplars point at traces this test emitted
    trace_ids = {r.trace_id for r in runs}
    exemplar_traces = {ex["labels"].get("trace_id") for ex in exemplars}
    assert exemplar_traces and exemplar_traces <= trace_ids


# --- fast cost drift -> Prometheus alert -> Alertmanager -----------------------------------------------------------------------
def test_fast_drift_alert_fires_and_reaches_alertmanager(
    emit_agent_run: EmitAgentRun, prometheus: Prometheus, alertmanager: Alertmanager
) -> None:
    service, agent = "e2e-drift", "looper"

    def firing() -> list[dict]:
        return [
            a
            for a in prometheus.alerts()
            if a["labels"].get("alertname") == "OtelAgentSpendDriftFast"
            and a["labels"].get("service_name") == service
            and a["state"] == "firing"
        ]

    # baseline: ~0.12 USD/minute for 70 s (the rule compares the last minute with the 5 minutes before it)
    start = time.monotonic()
    while time.monotonic() - start < 70:
        emit_agent_run("clean", service=service, agent=agent, cost_scale=0.2)
        time.sleep(0.8)
    assert firing() == [], "steady spend must not fire the drift alert"

    # drive cost up 100x and wait for the alert
    spike_started = time.monotonic()
    alert = None
    while time.monotonic() - spike_started < 90 and alert is None:
        emit_agent_run("clean", service=service, agent=agent, cost_scale=20)
        time.sleep(0.5)
        found = firing()
        alert = found[0] if found else None
    assert alert is not None, "OtelAgentSpendDriftFast did not fire within 90 s of the spend jump"
    fired_after = time.monotonic() - spike_started
    assert alert["labels"]["gen_ai_agent_name"] == agent
    assert alert["labels"]["window"] == "fast"

    def delivered() -> list[dict]:
        return [
            a
            for a in alertmanager.alerts(alertname="OtelAgentSpendDriftFast", service_name=service)
            if a["status"]["state"] == "active"
        ]

    received = wait_for(delivered, 60, what="the drift alert at Alertmanager")
    assert received[0]["labels"]["severity"] == "critical"
    print(f"fast drift alert fired {fired_after:.0f}s after the spend jump")


# --- faults: collector down and back ---------------------------------------------------------------------------------------------
def test_sdk_survives_collector_outage_and_telemetry_resumes(
    stack: Stack, jaeger: Jaeger, prometheus: Prometheus, tmp_path: Path
) -> None:
    service = "e2e-fault"
    report = tmp_path / "emitter.json"
    # a separate process emits 50 runs/s (200 spans/s) for 36 s; the collector is down from ~6 s to ~20 s
    emitter = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "otel_agent_tools.stack.synthetic",
            "--endpoint",
            stack.endpoints.otlp_http,
            "--service",
            service,
            "--rate",
            "50",
            "--duration",
            "36",
            "--mix",
            "clean,wasted",
            "--report",
            str(report),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(6)
        down_at = time.monotonic()
        stack.stop_component("collector")
        time.sleep(14)
        stack.start_component("collector")
        up_at = time.monotonic()
        _, stderr = emitter.communicate(timeout=120)
    finally:
        if emitter.poll() is None:
            emitter.kill()
            emitter.wait()
    assert emitter.returncode == 0, stderr[-2000:]
    result = json.loads(report.read_text())
    assert result["errors"] == []
    assert result["runs"] > 900

    # bounded memory: the emitter's RSS (sampled every 0.5 s) grows by a bounded amount over the whole run,
    # outage included: the span queue holds at most 2048 spans, then the SDK drops
    rss = result["rss_kib"]
    warm = max(kib for t, kib in rss if t <= 4)
    peak = max(kib for _, kib in rss)
    assert peak - warm < 64 * 1024, f"RSS grew {peak - warm} KiB (outage {up_at - down_at:.0f}s)"
    print(
        f"outage {up_at - down_at:.0f}s: {result['runs']} runs emitted, emitter RSS {warm // 1024} -> "
        f"{peak // 1024} MiB"
    )

    # traces flow again: runs that ended well after the restart are in Jaeger, complete
    restart_ns = time.time_ns() - int((time.monotonic() - up_at) * 1e9)
    after = [tid for tid, end in zip(result["trace_ids"], result["end_times_ns"]) if end > restart_ns + 3e9]
    assert after
    for trace_id in after[-5:]:
        jaeger.wait_trace(trace_id, 3, timeout=30)

    # cumulative metrics lose nothing: the run counter reaches every run emitted, outage included
    def all_runs_counted() -> bool:
        return prometheus.scalar(f'sum(otel_agent_runs_total{{service_name="{service}"}})') == result["runs"]

    wait_for(all_runs_counted, 30, what="otel_agent_runs_total to count every run emitted")
    in_jaeger = sum(1 for tid in result["trace_ids"][::25] if jaeger.trace(tid))
    print(f"traces in Jaeger (every 25th run): {in_jaeger} of {len(result['trace_ids'][::25])}")


# --- production config: TLS + bearer token ----------------------------------------------------------------------------------
def test_production_receivers_reject_requests_without_the_token(tmp_path: Path) -> None:
    import ssl

    binaries = find_binaries()
    cert, key, token_file = tmp_path / "tls.crt", tmp_path / "tls.key", tmp_path / "token"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    token_file.write_text("s3cret-token")
    grpc, http, health, telemetry, prom, sink = free_ports(6)
    proc = collector_process(
        binaries.collector,
        Path(__file__).resolve().parents[2] / "collector" / "config" / "production.yaml",
        name="collector-production",
        workdir=tmp_path,
        otlp_grpc=grpc,
        otlp_http=http,
        health=health,
        telemetry=telemetry,
        env={
            "OTEL_AGENT_TLS_CERT_FILE": str(cert),
            "OTEL_AGENT_TLS_KEY_FILE": str(key),
            "OTEL_AGENT_COLLECTOR_TOKEN_FILE": str(token_file),
            "OTEL_AGENT_PROM_EXPORTER_ENDPOINT": f"127.0.0.1:{prom}",
            "OTEL_AGENT_TRACES_OTLP_ENDPOINT": f"127.0.0.1:{sink}",
            "OTEL_AGENT_TRACES_OTLP_INSECURE": "true",
        },
    )
    proc.start()
    try:
        proc.wait_healthy(30)
        context = ssl.create_default_context(cafile=str(cert))

        def post(headers: dict[str, str]) -> int:
            request = urllib.request.Request(
                f"https://127.0.0.1:{http}/v1/traces",
                data=b"{}",
                method="POST",
                headers={"Content-Type": "application/json", **headers},
            )
            try:
                with urllib.request.urlopen(request, context=context, timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as exc:
                return exc.code

        assert post({}) == 401
        assert post({"Authorization": "Bearer wrong"}) == 401
        assert post({"Authorization": "Bearer s3cret-token"}) == 200
        with pytest.raises(urllib.error.URLError):  # plain HTTP is refused
            urllib.request.urlopen(f"http://127.0.0.1:{http}/v1/traces", data=b"{}", timeout=5)
    finally:
        proc.stop()


# --- scale-out: agent collector -> 2 gateways (tail sampling) ---------------------------------------------------------------------
def test_scale_out_routes_whole_traces_and_keeps_the_wasteful_runs(tmp_path: Path) -> None:
    binaries = find_binaries()
    cdir = Path(__file__).resolve().parents[2] / "collector"
    sinks = [OtlpTraceSink().start(), OtlpTraceSink().start()]
    ports = free_ports(10)
    gateways = []
    agent = None
    try:
        for i, sink in enumerate(sinks):
            gw = collector_process(
                binaries.collector,
                cdir / "config" / "gateway.yaml",
                name=f"gateway{i}",
                workdir=tmp_path,
                otlp_grpc=ports[3 * i],
                health=ports[3 * i + 1],
                telemetry=ports[3 * i + 2],
                env={
                    "OTEL_AGENT_GATEWAY_TRACES_ENDPOINT": sink.endpoint,
                    "OTEL_AGENT_SAMPLE_BASELINE_PERCENT": "10",
                    "OTEL_AGENT_SAMPLE_DECISION_WAIT": "5s",
                    "OTEL_AGENT_SAMPLE_DECISION_WAIT_AFTER_ROOT": "1s",
                    "OTEL_AGENT_SAMPLE_LONG_RUN_MS": "120000",
                    "OTEL_AGENT_BATCH_TIMEOUT": "200ms",
                },
            )
            gateways.append(gw.start())
        for gw in gateways:
            gw.wait_healthy(30)
        agent = collector_process(
            binaries.collector,
            cdir / "config" / "agent.yaml",
            name="agent",
            workdir=tmp_path,
            otlp_grpc=ports[6],
            otlp_http=ports[7],
            health=ports[8],
            telemetry=free_ports(1)[0],
            env={
                "OTEL_AGENT_GATEWAY_HOSTNAMES": f"[127.0.0.1:{ports[0]}, 127.0.0.1:{ports[3]}]",
                "OTEL_AGENT_PROM_EXPORTER_ENDPOINT": f"127.0.0.1:{ports[9]}",
                "OTEL_AGENT_SPANMETRICS_FLUSH_INTERVAL": "1s",
                "OTEL_AGENT_BATCH_TIMEOUT": "200ms",
            },
        ).start()
        agent.wait_healthy(30)

        service = "e2e-scale-out"
        mix = (
            ["wasted"] * 12
            + ["escalated"] * 4
            + ["expensive"] * 4
            + ["failed"] * 4
            + ["failed_outcome"] * 4
            + ["long"] * 2
            + ["clean"] * 40
        )
        with SyntheticAgentTelemetry(f"http://127.0.0.1:{ports[7]}", service) as emitter:
            runs = {kind_run.trace_id: (kind, kind_run) for kind in mix for kind_run in [emitter.emit(scenario(kind))]}

        keep_kinds = {"wasted", "escalated", "expensive", "failed", "failed_outcome", "long"}
        must_keep = {tid for tid, (kind, _) in runs.items() if kind in keep_kinds}

        def decided() -> bool:
            seen = set(sinks[0].traces()) | set(sinks[1].traces())
            return must_keep <= seen

        wait_for(decided, 60, interval=0.5, what="the gateways to keep every wasteful/escalated/costly/failed run")
        time.sleep(3)  # let the clean runs' decisions land too
        per_sink = [sink.traces() for sink in sinks]
        kept = set(per_sink[0]) | set(per_sink[1])

        # every kept trace is whole, and on exactly one gateway
        assert set(per_sink[0]).isdisjoint(per_sink[1])
        for tid in kept:
            spans = per_sink[0].get(tid) or per_sink[1][tid]
            assert len(spans) == runs[tid][1].span_count, f"trace {tid} ({runs[tid][0]}) is incomplete"
        # both gateways took part
        accepted = []
        for i in range(2):
            text = urllib.request.urlopen(f"http://127.0.0.1:{ports[3 * i + 2]}/metrics", timeout=5).read().decode()
            accepted.append(
                sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("otelcol_receiver_accepted_spans")
                )
            )
        assert all(a > 0 for a in accepted), accepted
        assert sum(accepted) == sum(r.span_count for _, r in runs.values())
        # tail sampling: all interesting runs kept, most clean ones dropped
        clean = {tid for tid, (kind, _) in runs.items() if kind == "clean"}
        assert must_keep <= kept
        assert len(clean & kept) <= len(clean) // 2, f"kept {len(clean & kept)} of {len(clean)} clean runs"
        print(
            f"gateways accepted {accepted} spans; kept {len(must_keep & kept)}/{len(must_keep)} flagged runs and "
            f"{len(clean & kept)}/{len(clean)} clean runs"
        )

        # span metrics were computed on the agent tier before sampling: every run counted
        def all_runs_in_span_metrics() -> bool:
            text = urllib.request.urlopen(f"http://127.0.0.1:{ports[9]}/metrics", timeout=5).read().decode()
            root_name = n.span_name(n.OPERATION_INVOKE_AGENT, "e2e-agent")
            total = sum(
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith("traces_span_metrics_calls_total{") and f'span_name="{root_name}"' in line
            )
            return total == len(runs)

        wait_for(all_runs_in_span_metrics, 30, what="agent-tier span metrics to count every run")
    finally:
        if agent is not None:
            agent.stop()
        for gw in gateways:
            gw.stop()
        for sink in sinks:
            sink.stop()


def test_stack_reports_healthy_processes(stack: Stack) -> None:
    assert all(stack.status().values()), stack.status()
    assert get_json(f"{stack.endpoints.prometheus}/api/v1/status/buildinfo")["data"]["version"]
    assert os.path.isdir(stack.workdir)
