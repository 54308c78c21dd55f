"""Helpers for the lifecycle tests: run `_child` in a subprocess, read back its OTLP-JSON spans, loopback sinks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    ended_at: float  # wall clock when the process had exited

    @property
    def exit_seconds(self) -> float:
        """From the end of the script's main() (it prints the time) to the end of the process: the exit itself."""
        for line in self.stdout.splitlines():
            if line.startswith('{"exiting_at"'):
                return self.ended_at - float(json.loads(line)["exiting_at"])
        raise AssertionError(f"the script did not reach its end: {self.stderr}")


def run_child(
    mode: str, folder: Path, env: dict[str, str] | None = None, timeout: float = 120, launcher: tuple[str, ...] = ()
) -> Done:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ANTHROPIC_OPEN"))}
    environ.update(env or {})
    extra = environ.pop("PYTHONPATH_EXTRA", "")
    environ["PYTHONPATH"] = os.pathsep.join(p for p in (extra, str(ROOT)) if p)
    start = time.monotonic()
    done = subprocess.run(
        [*launcher, sys.executable, "-m", "tests.lifecycle._child", mode, str(folder)],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return Done(done.returncode, done.stdout, done.stderr, time.monotonic() - start, time.time())


def spans_in(folder: Path) -> list[dict[str, Any]]:
    path = folder / "traces.otlp.jsonl"
    spans: list[dict[str, Any]] = []
    if not path.exists():
        return spans
    for line in path.read_text().splitlines():
        for resource in json.loads(line)["resourceSpans"]:
            for scope in resource["scopeSpans"]:
                spans.extend(scope["spans"])
    return spans


def attributes(span: dict[str, Any]) -> dict[str, Any]:
    return {a["key"]: next(iter(a["value"].values())) for a in span.get("attributes", [])}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def hanging_collector() -> Iterator[int]:
    """A loopback socket that accepts connections and never answers (a collector that hangs)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        server.close()


@dataclass
class Received:
    """What a loopback OTLP sink received: request paths (or gRPC methods) and decoded span names."""

    calls: list[str]
    span_names: list[str]
    log_events: list[str]


@contextmanager
def http_sink() -> Iterator[tuple[int, Received]]:
    """An OTLP/HTTP receiver on 127.0.0.1 that answers 200 and decodes what it gets."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received = Received([], [], [])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.headers.get("Content-Encoding") == "gzip":
                import gzip

                body = gzip.decompress(body)
            received.calls.append(self.path)
            if self.path == "/v1/traces":
                request = ExportTraceServiceRequest.FromString(body)
                received.span_names.extend(_names(request))
            elif self.path == "/v1/logs":
                logs = ExportLogsServiceRequest.FromString(body)
                received.log_events.extend(_events(logs))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1]), received
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def grpc_sink() -> Iterator[tuple[int, Received]]:
    """An OTLP/gRPC receiver on 127.0.0.1 (the real grpcio server and the OTLP service stubs)."""
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    received = Received([], [], [])

    class Traces(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
        def Export(self, request: Any, context: Any) -> Any:
            received.calls.append("traces")
            received.span_names.extend(_names(request))
            return trace_service_pb2.ExportTraceServiceResponse()

    class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
        def Export(self, request: Any, context: Any) -> Any:
            received.calls.append("metrics")
            return metrics_service_pb2.ExportMetricsServiceResponse()

    class Logs(logs_service_pb2_grpc.LogsServiceServicer):  # type: ignore[misc]
        def Export(self, request: Any, context: Any) -> Any:
            received.calls.append("logs")
            received.log_events.extend(_events(request))
            return logs_service_pb2.ExportLogsServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, received
    finally:
        server.stop(0)


def _names(request: Any) -> list[str]:
    return [span.name for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]


def _events(request: Any) -> list[str]:
    return [record.event_name for rl in request.resource_logs for sl in rl.scope_logs for record in sl.log_records]
