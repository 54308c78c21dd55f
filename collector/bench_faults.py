"""Inject faults into the real stack and count what survives: spans sent, accepted, found in Jaeger afterwards, time
to recover, and the memory and disk peaks, for each fault of collector/README.md's "Persistence and faults" table.

    collector/build.sh && .venv/bin/python collector/bench_faults.py [--rate 2000] [--json out.json]

Faults: Jaeger killed (SIGKILL) and restarted under load; the collector killed with kill -9 holding a full queue,
then restarted; a gateway killed and restarted in the scale-out topology under load; Prometheus restarted; the
queue's disk full (a 4 MiB tmpfs mounted on the queue directory: needs root, skipped otherwise). Load: OTLP/JSON
requests of 10 traces x 5 spans, each sent once without retries (so "accepted" is exact: HTTP 200 from the
collector), at --rate spans/s. "found" counts spans per trace through Jaeger's search API; "recovery" is the time
from the restart to the last accepted span being queryable. Memory: peak RSS of each process (sampled every 100 ms).
Disk: peak size of the queue directory and of Jaeger's badger directory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from otel_agent_tools.stack import SCALE_OUT, Stack
from otel_agent_tools.stack.clients import Jaeger, Prometheus, SentTraces, wait_for

TRACES_PER_REQUEST, SPANS = 10, 5


def rss_mib(pid: int | None) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def du_mib(path: Path) -> float:
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                pass
    return total / 2**20


class Peaks:
    """Samples RSS of every stack process and the disk of the data directories until stopped."""

    def __init__(self, stack: Stack) -> None:
        self.stack, self.rss, self.disk = stack, {}, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, proc in self.stack.processes.items():
                self.rss[name] = max(self.rss.get(name, 0.0), rss_mib(proc.pid))
            for name in ("queue", "jaeger-data"):
                self.disk[name] = max(self.disk.get(name, 0.0), du_mib(self.stack.workdir / name))
            time.sleep(0.1)

    def __enter__(self) -> Peaks:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, Any]:
        return {"rss_peak_mib": {k: round(v, 1) for k, v in self.rss.items()}, "disk_peak_mib": self.disk}


class Load:
    """Sends requests at ``rate`` spans/s from a thread until stopped; ``sent`` holds what was accepted/refused."""

    def __init__(self, endpoint: str, service: str, rate: float) -> None:
        self.endpoint, self.service = endpoint, service
        self.interval = TRACES_PER_REQUEST * SPANS / rate
        self.sent = SentTraces()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            self.sent.send(self.endpoint, self.service, traces=TRACES_PER_REQUEST, spans_per_trace=SPANS)
            due += self.interval
            time.sleep(max(0.0, due - time.monotonic()))

    def __enter__(self) -> Load:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def found_in_jaeger(stack: Stack, service: str, sent: SentTraces, timeout: float) -> tuple[int, float | None]:
    """(spans of accepted traces found, the monotonic time when all were found, or None)."""
    jaeger = Jaeger(stack.endpoints.jaeger_query)

    def complete() -> bool:
        found = jaeger.span_counts(service, limit=100000)
        return all(found.get(t) == n for t, n in sent.accepted.items())

    try:
        wait_for(complete, timeout, interval=0.5, what="every accepted span")
        took: float | None = time.monotonic()
    except TimeoutError:
        took = None
    found = jaeger.span_counts(service, limit=100000)
    return sum(min(found.get(t, 0), n) for t, n in sent.accepted.items()), took


def row(name: str, sent: SentTraces, found: int, recovery: float | None, peaks: Peaks, **extra: Any) -> dict[str, Any]:
    result = {
        "fault": name,
        "spans_sent": sent.accepted_spans + sent.refused_spans,
        "accepted": sent.accepted_spans,
        "refused": sent.refused_spans,
        "found": found,
        "lost": sent.accepted_spans - found,
        "recovery_s": None if recovery is None else round(recovery, 1),
        **peaks.summary(),
        **extra,
    }
    print(json.dumps(result), flush=True)
    return result


def kill9(stack: Stack, name: str) -> None:
    proc = stack.processes[name]
    os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
    proc.stop()  # reap


def _stack(workdir: Path, **kwargs: Any) -> Stack:
    return Stack(workdir, fast=True, keep_workdir=True, **kwargs).start()


def fault_jaeger_killed(base: Path, rate: float) -> dict[str, Any]:
    stack = _stack(base / "jaeger-kill")
    try:
        with Peaks(stack) as peaks:
            with Load(stack.endpoints.otlp_http, "fault-jaeger", rate) as load:
                time.sleep(5)
                kill9(stack, "jaeger")
                time.sleep(10)
                restart = time.monotonic()
                stack.start_component("jaeger")
                time.sleep(5)
            found, done = found_in_jaeger(stack, "fault-jaeger", load.sent, 180)
        recovery = None if done is None else done - restart
        return row("Jaeger killed 10 s under load, restarted (load on 5 s more)", load.sent, found, recovery, peaks)
    finally:
        stack.stop()


def fault_collector_killed_full_queue(base: Path, queue_spans: int) -> dict[str, Any]:
    stack = _stack(base / "collector-kill", collector_env={"OTEL_AGENT_QUEUE_SIZE": str(queue_spans)})
    try:
        with Peaks(stack) as peaks:
            stack.stop_component("jaeger")
            sent = SentTraces()
            while not sent.refused and sent.accepted_spans < queue_spans * 2:
                sent.send(
                    stack.endpoints.otlp_http, "fault-collector", traces=TRACES_PER_REQUEST, spans_per_trace=SPANS
                )
            kill9(stack, "collector")
            restart = time.monotonic()
            stack.start_component("collector")
            stack.start_component("jaeger")
            found, done = found_in_jaeger(stack, "fault-collector", sent, 300)
        recovery = None if done is None else done - restart
        return row(f"collector kill -9 with a full queue ({queue_spans} spans)", sent, found, recovery, peaks)
    finally:
        stack.stop()


def fault_gateway_lost(base: Path, rate: float) -> dict[str, Any]:
    env = {"OTEL_AGENT_SAMPLE_BASELINE_PERCENT": "100"}  # keep every run, so every span is expected in Jaeger
    stack = _stack(base / "gateway-kill", topology=SCALE_OUT, gateways=2, collector_env=env)
    try:
        with Peaks(stack) as peaks:
            with Load(stack.endpoints.otlp_http, "fault-gateway", rate) as load:
                time.sleep(5)
                kill9(stack, "gateway1")
                time.sleep(10)
                restart = time.monotonic()
                stack.start_component("gateway1")
                time.sleep(5)
            found, done = found_in_jaeger(stack, "fault-gateway", load.sent, 120)
        recovery = None if done is None else done - restart
        return row("gateway 1 of 2 killed 10 s under load, restarted (scale-out)", load.sent, found, recovery, peaks)
    finally:
        stack.stop()


def fault_prometheus_restarted(base: Path) -> dict[str, Any]:
    stack = _stack(base / "prometheus-restart")
    try:
        with Peaks(stack) as peaks:
            prometheus = Prometheus(stack.endpoints.prometheus)
            sent = SentTraces()
            for _ in range(10):
                sent.send(
                    stack.endpoints.otlp_http, "fault-prometheus", traces=TRACES_PER_REQUEST, spans_per_trace=SPANS
                )
            expr = 'sum(traces_span_metrics_calls_total{service_name="fault-prometheus"})'
            wait_for(lambda: prometheus.scalar(expr) == sent.accepted_spans, 60, 0.5, expr)
            before = time.time()
            stack.stop_component("prometheus")
            time.sleep(5)
            restart = time.monotonic()
            stack.start_component("prometheus")
            ready = time.monotonic() - restart
            kept = prometheus.scalar(expr, at=before)
            wait_for(lambda: prometheus.scalar(expr) == sent.accepted_spans, 60, 0.5, "scrapes again")
            recovery = time.monotonic() - restart
            found, _ = found_in_jaeger(stack, "fault-prometheus", sent, 60)
        return row(
            "Prometheus stopped 5 s, restarted",
            sent,
            found,
            recovery,
            peaks,
            series_value_before_restart_kept=kept == sent.accepted_spans,
            ready_s=round(ready, 1),
        )
    finally:
        stack.stop()


def fault_queue_disk_full(base: Path) -> dict[str, Any] | None:
    workdir = base / "disk-full"
    queue = workdir / "queue" / "collector"
    queue.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(queue)], capture_output=True).returncode:
        print("queue disk full: skipped (mounting a tmpfs needs root)", flush=True)
        return None
    try:
        stack = _stack(workdir)
        try:
            with Peaks(stack) as peaks:
                stack.stop_component("jaeger")
                sent = SentTraces()
                while len(sent.refused) < 200 and len(sent.statuses) < 5000:
                    sent.send(stack.endpoints.otlp_http, "fault-disk", traces=TRACES_PER_REQUEST, spans_per_trace=SPANS)
                from urllib.request import urlopen

                text = urlopen(stack.endpoints.collector_telemetry).read().decode()
                counted = sum(
                    float(line.rsplit(" ", 1)[1])
                    for line in text.splitlines()
                    if line.startswith("otelcol_exporter_enqueue_failed_spans")
                )
                restart = time.monotonic()
                stack.start_component("jaeger")
                found, done = found_in_jaeger(stack, "fault-disk", sent, 120)
            return row(
                "queue disk full (4 MiB tmpfs), Jaeger down, then back",
                sent,
                found,
                None if done is None else done - restart,
                peaks,
                enqueue_failed_counted=counted,
                collector_alive=stack.processes["collector"].running(),
            )
        finally:
            stack.stop()
    finally:
        subprocess.run(["umount", str(queue)], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=2000.0, help="spans/s of the load (default 2000)")
    parser.add_argument("--queue-spans", type=int, default=50000, help="queue size for the kill -9 case")
    parser.add_argument("--only", default="", help="comma-separated subset: jaeger,collector,gateway,prometheus,disk")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="otel-agent-faults-"))
    faults: dict[str, Callable[[], dict[str, Any] | None]] = {
        "jaeger": lambda: fault_jaeger_killed(base, args.rate),
        "collector": lambda: fault_collector_killed_full_queue(base, args.queue_spans),
        "gateway": lambda: fault_gateway_lost(base, args.rate),
        "prometheus": lambda: fault_prometheus_restarted(base),
        "disk": lambda: fault_queue_disk_full(base),
    }
    chosen = [f for f in args.only.split(",") if f] or list(faults)
    rows = [r for r in (faults[name]() for name in chosen) if r is not None]
    if args.json:
        args.json.write_text(json.dumps({"cores": os.cpu_count(), "rate": args.rate, "faults": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
