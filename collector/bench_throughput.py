"""Measure the single-node collector path on this machine: spans/s it sustains without drops, and the delay from
an agent run's end to its trace being queryable in Jaeger.

    collector/build.sh && .venv/bin/python collector/bench_throughput.py [--steps 2000,5000,...] [--json out.json]

    --queue memory    the same with the exporter's sending queue in memory instead of on disk (file_storage), for the
                      persistent-vs-in-memory comparison in collector/README.md

Throughput: pre-encoded OTLP/HTTP protobuf requests (agent-shaped traces: invoke_agent > chat/execute_tool spans
with the usual attributes, 500 spans per request) are POSTed by sender threads at a fixed rate per step, into the
real stack (collector single-node config, persistent queue -> Jaeger badger store, span metrics -> Prometheus
exporter). A step
passes when the senders reached >= 95% of the target, the collector refused nothing, its exporter failed nothing,
and Jaeger accepted every span the collector sent. Sender, collector and Jaeger share the machine's cores, so the
figure is for the whole path on one box.

Delay: runs emitted with the OpenTelemetry SDK (BatchSpanProcessor) and polled in Jaeger's /api/traces/{id}
every 20 ms until complete; reported for the SDK's default 5 s schedule delay, a 200 ms delay, and force_flush.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from otel_agent_tools.stack import Stack
from otel_agent_tools.stack.clients import Jaeger, wait_for
from otel_agent_tools.stack.synthetic import SyntheticAgentTelemetry, scenario

SPANS_PER_TRACE = 5
TRACES_PER_REQUEST = 100


def _kv(key: str, value: object) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def build_request(rng: random.Random, service: str) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.append(_kv("service.name", service))
    ss = rs.scope_spans.add()
    ss.scope.name = "bench"
    now = time.time_ns()
    for _ in range(TRACES_PER_REQUEST):
        trace_id = rng.randbytes(16)
        root_id = rng.randbytes(8)
        start = now - 2_000_000_000
        root = ss.spans.add(
            trace_id=trace_id,
            span_id=root_id,
            name="invoke_agent bench-agent",
            kind=Span.SPAN_KIND_INTERNAL,
            start_time_unix_nano=start,
            end_time_unix_nano=now,
        )
        root.attributes.extend(
            [
                _kv("gen_ai.operation.name", "invoke_agent"),
                _kv("gen_ai.agent.name", "bench-agent"),
                _kv("otel_agent.run.turns", 2),
                _kv("otel_agent.run.cost", 0.01),
                _kv("otel_agent.run.outcome", "success"),
            ]
        )
        for i in range(SPANS_PER_TRACE - 1):
            chat = i % 2 == 0
            span = ss.spans.add(
                trace_id=trace_id,
                span_id=rng.randbytes(8),
                parent_span_id=root_id,
                name="chat small-model" if chat else "execute_tool search",
                kind=Span.SPAN_KIND_CLIENT if chat else Span.SPAN_KIND_INTERNAL,
                start_time_unix_nano=start + i * 400_000_000,
                end_time_unix_nano=start + (i + 1) * 400_000_000,
            )
            span.status.code = Status.STATUS_CODE_OK
            if chat:
                span.attributes.extend(
                    [
                        _kv("gen_ai.operation.name", "chat"),
                        _kv("gen_ai.request.model", "small-model"),
                        _kv("gen_ai.agent.name", "bench-agent"),
                        _kv("gen_ai.usage.input_tokens", 1200),
                        _kv("gen_ai.usage.output_tokens", 300),
                        _kv("otel_agent.turn.index", i // 2),
                        _kv("otel_agent.turn.wasted", False),
                        _kv("gen_ai.usage.cost.amount", 0.005),
                    ]
                )
            else:
                span.attributes.extend(
                    [_kv("gen_ai.operation.name", "execute_tool"), _kv("gen_ai.tool.name", "search")]
                )
    return request.SerializeToString()


def scrape(url: str, prefix: str) -> float:
    text = http_get(url)
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def http_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def send_step(host: str, port: int, payloads: list[bytes], rate: float, seconds: float, threads: int) -> dict:
    """POST payloads at `rate` spans/s for `seconds`; returns spans sent and HTTP failures."""
    spans_per_request = SPANS_PER_TRACE * TRACES_PER_REQUEST
    requests_per_s = rate / spans_per_request
    lock = threading.Lock()
    state = {"sent": 0, "failed": 0, "next": 0}
    start = time.monotonic()
    deadline = start + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                k = state["next"]
                state["next"] += 1
            due = start + k / requests_per_s
            if due >= deadline:
                break
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = payloads[k % len(payloads)]
            try:
                conn.request("POST", "/v1/traces", body=body, headers={"Content-Type": "application/x-protobuf"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
            with lock:
                state["sent" if ok else "failed"] += spans_per_request
        conn.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.monotonic() - start
    return {
        "sent_spans": state["sent"],
        "failed_spans": state["failed"],
        "elapsed_s": elapsed,
        "achieved_spans_per_s": state["sent"] / elapsed,
    }


def throughput(stack: Stack, steps: list[int], seconds: float, threads: int) -> list[dict]:
    e = stack.endpoints
    host, port = "127.0.0.1", stack.ports["otlp_http"]
    rng = random.Random(1)
    payloads = [build_request(rng, "bench") for _ in range(120)]
    jaeger_metrics = f"http://127.0.0.1:{stack.ports['jaeger_telemetry']}/metrics"
    results = []
    for rate in steps:
        before = {k: scrape(e.collector_telemetry, k) for k in COLLECTOR_COUNTERS}
        jaeger_before = scrape(jaeger_metrics, "otelcol_receiver_accepted_spans")
        step = send_step(host, port, payloads, rate, seconds, threads)

        def drained() -> bool:
            sent = scrape(e.collector_telemetry, "otelcol_exporter_sent_spans") - before["otelcol_exporter_sent_spans"]
            accepted = (
                scrape(e.collector_telemetry, "otelcol_receiver_accepted_spans")
                - before["otelcol_receiver_accepted_spans"]
            )
            return sent >= accepted

        try:
            wait_for(drained, 60, interval=0.5, what="the collector's exporter to drain")
        except TimeoutError:
            pass
        time.sleep(1.5)
        after = {k: scrape(e.collector_telemetry, k) for k in COLLECTOR_COUNTERS}
        delta = {k: after[k] - before[k] for k in COLLECTOR_COUNTERS}
        jaeger_got = scrape(jaeger_metrics, "otelcol_receiver_accepted_spans") - jaeger_before
        dropped = (
            delta["otelcol_receiver_refused_spans"]
            + delta["otelcol_exporter_send_failed_spans"]
            + delta["otelcol_exporter_enqueue_failed_spans"]
            + step["failed_spans"]
        )
        ok = (
            step["achieved_spans_per_s"] >= 0.95 * rate
            and dropped == 0
            and jaeger_got >= delta["otelcol_exporter_sent_spans"] > 0
            # drained: everything accepted was exported within the wait (a backlog left on disk is not sustained)
            and delta["otelcol_exporter_sent_spans"] >= delta["otelcol_receiver_accepted_spans"]
        )
        row = {
            "target_spans_per_s": rate,
            **step,
            **delta,
            "jaeger_accepted_spans": jaeger_got,
            "dropped_spans": dropped,
            "ok": ok,
        }
        results.append(row)
        print(
            f"  target {rate:>7} spans/s: achieved {step['achieved_spans_per_s']:>9.0f}, "
            f"collector accepted {delta['otelcol_receiver_accepted_spans']:.0f} "
            f"refused {delta['otelcol_receiver_refused_spans']:.0f}, exported {delta['otelcol_exporter_sent_spans']:.0f} "
            f"failed {delta['otelcol_exporter_send_failed_spans'] + delta['otelcol_exporter_enqueue_failed_spans']:.0f}, "
            f"Jaeger accepted {jaeger_got:.0f} -> {'ok' if ok else 'NOT sustained'}",
            flush=True,
        )
        if not ok:
            break
    return results


COLLECTOR_COUNTERS = (
    "otelcol_receiver_accepted_spans",
    "otelcol_receiver_refused_spans",
    "otelcol_exporter_sent_spans",
    "otelcol_exporter_send_failed_spans",
    "otelcol_exporter_enqueue_failed_spans",
)


def queryable_delay(stack: Stack, runs: int) -> dict[str, dict[str, float]]:
    jaeger = Jaeger(stack.endpoints.jaeger_query)
    results = {}
    for label, delay_ms, flush in (
        ("sdk default (5 s batch delay)", 5000, False),
        ("sdk 200 ms batch delay", 200, False),
        ("sdk force_flush at run end", 5000, True),
    ):
        emitter = SyntheticAgentTelemetry(stack.endpoints.otlp_http, "bench-delay", span_schedule_delay_ms=delay_ms)
        delays = []
        for _ in range(runs):
            run = emitter.emit(scenario("clean", agent="bench-agent"))
            if flush:
                emitter.tracer_provider.force_flush()
            jaeger.wait_trace(run.trace_id, run.span_count, timeout=60, interval=0.02)
            delays.append((time.time_ns() - run.end_time_ns) / 1e9)
            time.sleep(0.3)
        emitter.shutdown()
        results[label] = {
            "median_s": statistics.median(delays),
            "max_s": max(delays),
            "min_s": min(delays),
            "runs": runs,
        }
        print(
            f"  {label:<32} median {results[label]['median_s']:.2f}s  min {results[label]['min_s']:.2f}s  "
            f"max {results[label]['max_s']:.2f}s",
            flush=True,
        )
    return results


def _in_memory_copy() -> Path:
    """collector/ copied to a temp dir with the exporters' ``storage:`` lines removed (in-memory sending queues)."""
    import shutil
    import tempfile

    from otel_agent_tools.stack import collector_dir

    target = Path(tempfile.mkdtemp(prefix="otel-agent-memq-")) / "collector"
    shutil.copytree(collector_dir(), target, ignore=shutil.ignore_patterns("_build"))
    config = target / "config" / "single-node.yaml"
    config.write_text(
        "".join(line for line in config.read_text().splitlines(True) if "storage: file_storage/queue" not in line)
    )
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", default="2000,5000,10000,20000,40000,80000")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each throughput step")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--delay-runs", type=int, default=10)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--queue", choices=("disk", "memory"), default="disk")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    if args.queue == "memory":
        from otel_agent_tools.stack import build_dir

        os.environ["OTEL_AGENT_BUILD_DIR"] = str(build_dir())  # the binaries stay where build.sh put them
        os.environ["OTEL_AGENT_COLLECTOR_DIR"] = str(_in_memory_copy())
    with Stack(
        collector_env={"OTEL_AGENT_COLLECTOR_MEMORY_LIMIT_MIB": "1536", "OTEL_AGENT_COLLECTOR_MEMORY_SPIKE_MIB": "384"}
    ) as stack:
        print(f"stack up in {stack.workdir} (cores: {os.cpu_count()})", flush=True)
        print(f"throughput (single-node collector, {args.queue} queue -> Jaeger badger store):", flush=True)
        rows = throughput(stack, steps, args.seconds, args.threads)
        print("run end -> trace queryable in Jaeger (collector batch timeout 1 s):", flush=True)
        delays = queryable_delay(stack, args.delay_runs)
    sustained = max((r["target_spans_per_s"] for r in rows if r["ok"]), default=0)
    summary = {"cores": os.cpu_count(), "max_sustained_spans_per_s": sustained, "steps": rows, "delay": delays}
    print(f"max sustained without drops: {sustained} spans/s")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
