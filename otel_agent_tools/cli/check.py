"""`otel-agent check`: is instrumentation active here, where does telemetry go, and is it reachable?

It instruments this process exactly as `otel_agent.instrument()` would with the current environment (the
`OTEL_*` and `OTEL_AGENT_*` variables), then reports each SDK (installed, patched), each exporter and whether its
endpoint answers. With a Prometheus that scrapes the collector (--prometheus URL, or the one `otel-agent stack up`
recorded), it also says whether spans were dropped on the way: by the SDK (its own counter
otel.sdk.processor.span.processed with error.type, exported when the agent runs with
OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED=true) and by the collector (refused by its receiver, refused by a full
sending queue, or failed to send for good). Exit code 0 when everything checked is fine, 4 when something is not,
2 (one line) when an OTLP endpoint variable is not a usable URL (no host, a scheme other than http/https, a port
outside 1-65535).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


@dataclass
class Check:
    item: str
    ok: bool
    detail: str


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "check",
        help="check SDK patching, exporters and endpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--prometheus",
        metavar="URL",
        default=None,
        help="Prometheus scraping the collector, to count dropped spans (default: the `otel-agent stack up` one)",
    )
    parser.set_defaults(handler=run)


# (what, PromQL): each a count of spans lost at one place; the SDK's counter is the OpenTelemetry SDK's own
DROP_QUERIES = (
    ("spans dropped by the SDK", 'sum(otel_sdk_processor_span_processed_total{error_type!=""})'),
    ("spans refused by the collector's receiver", "sum(otelcol_receiver_refused_spans)"),
    ("spans refused by a full collector queue", "sum(otelcol_exporter_enqueue_failed_spans)"),
    ("spans the collector failed to send", "sum(otelcol_exporter_send_failed_spans)"),
)


def _recorded_prometheus() -> str | None:
    try:
        from ..stack.runner import default_state_dir
        from ..stack.state import STATE_FILE, load_state

        state = load_state(default_state_dir() / STATE_FILE)
    except Exception:  # no stack recorded or unreadable: nothing to ask
        return None
    url = state.endpoints.get("prometheus") if state else None
    return url if isinstance(url, str) else None


def drop_checks(prometheus: str | None) -> list[Check]:
    """One check per place spans can be lost, read from Prometheus; none when there is no Prometheus to ask."""
    from ..stack.clients import Prometheus

    url = prometheus or _recorded_prometheus()
    if not url:
        return [Check("dropped spans", True, "not checked (no Prometheus: pass --prometheus URL)")]
    client = Prometheus(url)
    checks = []
    for what, expr in DROP_QUERIES:
        try:
            value = client.scalar(expr)
        except Exception as exc:  # unreachable, not Prometheus, a bad answer: one line, the check fails
            return [Check("dropped spans", False, f"cannot query Prometheus at {url}: {exc}")]
        if value is None:
            checks.append(Check(what, True, "no such series (nothing reported it)"))
        else:
            checks.append(Check(what, value == 0, f"{value:.0f}" + ("" if value == 0 else " DROPPED")))
    return checks


def _sdk_checks() -> list[Check]:
    from otel_agent.instrumentors import sdk_patched

    checks = []
    for module in ("openai", "anthropic"):
        if importlib.util.find_spec(module) is None:
            checks.append(Check(f"sdk {module}", True, "not installed (nothing to patch)"))
            continue
        version = importlib.metadata.version(module)
        patched = sdk_patched(module)
        checks.append(Check(f"sdk {module} {version}", patched, "patched" if patched else "NOT patched"))
    if importlib.util.find_spec("mcp") is not None:
        from otel_agent.trajectory import mcp_hook

        hooked = mcp_hook.is_instrumented()
        checks.append(Check("mcp ClientSession.call_tool", hooked, "patched" if hooked else "NOT patched"))
    return checks


ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
)


def endpoint_problem(endpoint: str) -> str | None:
    """Why `endpoint` is not a usable OTLP/HTTP URL, in a few words; None when it is."""
    try:
        parsed = urlparse(endpoint)
        port = parsed.port
    except ValueError as exc:  # urllib raises on a port that is not a number in 0-65535
        return f"not a valid URL ({exc})"
    if parsed.scheme not in ("http", "https"):
        return "not an http:// or https:// URL"
    if not parsed.hostname:
        return "no host in the URL"
    if port is not None and not 1 <= port <= 65535:
        return f"port {port} is outside 1-65535"
    return None


def endpoint_reachable(endpoint: str, timeout: float = 2.0) -> tuple[bool, str]:
    """Whether `endpoint`'s host accepts TCP connections (OTLP/HTTP's 4318 when the URL names no port)."""
    problem = endpoint_problem(endpoint)
    if problem is not None:
        return False, f"{endpoint!r}: {problem}"
    parsed = urlparse(endpoint)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 4318)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, f"{host}:{port} accepts connections"
    except OSError as exc:
        return False, f"{host}:{port} unreachable ({exc.strerror or exc})"


def _exporter_checks(runtime: Any) -> list[Check]:
    checks = []
    exporters = runtime.sdk.exporters
    if not exporters:
        checks.append(Check("exporters", True, "the application's own providers are in use"))
    for exporter in exporters:
        signal, _, kind = exporter.partition(":")
        if kind == "otlp":
            endpoint = (
                os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT")
                or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or "http://localhost:4318"
            )
            ok, detail = endpoint_reachable(endpoint)
            checks.append(Check(f"{signal} -> OTLP/HTTP {endpoint}", ok, detail))
        elif kind == "file":
            folder = Path(runtime.options.file_path)
            try:
                folder.mkdir(parents=True, exist_ok=True)
                ok = os.access(folder, os.W_OK)
            except OSError:
                ok = False
            checks.append(
                Check(f"{signal} -> OTLP-JSON file", ok, f"{folder.resolve()} {'writable' if ok else 'NOT writable'}")
            )
        else:
            checks.append(Check(f"{signal} -> {kind}", True, "configured"))
    return checks


def run(args: argparse.Namespace) -> int:
    import otel_agent
    from otel_agent import runtime as rt

    from .main import UserError

    for variable in ENDPOINT_VARIABLES:
        value = os.environ.get(variable)
        problem = endpoint_problem(value) if value else None
        if problem is not None:
            raise UserError(f"{variable}={value!r}: {problem}")
    otel_agent.instrument()
    try:
        runtime = rt.current()
        checks = _sdk_checks() + _exporter_checks(runtime)
        options = runtime.options
        checks.append(Check("content capture", True, str(options.capture_content or "env default")))
        checks.append(
            Check(
                "pricing",
                runtime.pipeline.cost is not None,
                "on (genai-prices bundled data)" if runtime.pipeline.cost else "off",
            )
        )
    finally:
        otel_agent.uninstrument()
    checks += drop_checks(getattr(args, "prometheus", None))
    if args.format == "json":
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for check in checks:
            print(f"[{'ok' if check.ok else 'FAIL'}] {check.item}: {check.detail}")
    return 0 if all(c.ok for c in checks) else 4
