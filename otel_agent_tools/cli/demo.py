"""`otel-agent demo`: a real agent on a real local model, instrumented end to end, then its report.

No network and no API keys: the model server starts from installed packages. Telemetry goes to a local OTLP-JSON
folder (the embedded default) and, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set and reachable, to that endpoint too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .check import endpoint_reachable
from .main import UserError


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="run an instrumented demo agent on a local model and print its report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", default="otel-agent-telemetry", help="telemetry folder (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the model server")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="report format")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    parser.set_defaults(handler=run)


def _providers(out: Path, progress: Any) -> tuple[Any, Any, list[str]]:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from otel_agent.export.otlp_json_file import OtlpJsonFileMetricExporter, OtlpJsonFileSpanExporter

    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "otel-agent-demo")})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(OtlpJsonFileSpanExporter(str(out))))
    readers = [PeriodicExportingMetricReader(OtlpJsonFileMetricExporter(str(out)), export_interval_millis=5000)]
    sinks = [f"OTLP-JSON files in {out}/"]
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if endpoint:
        if endpoint_reachable(endpoint, timeout=1.0)[0]:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
            readers.append(PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=5000))
            sinks.append(f"OTLP/HTTP {endpoint}")
        else:
            progress(f"note: OTEL_EXPORTER_OTLP_ENDPOINT={endpoint} is not reachable; writing files only")
    return tracer_provider, MeterProvider(resource=resource, metric_readers=readers), sinks


def run(args: argparse.Namespace) -> int:
    import otel_agent

    from ..local_model import LocalModelServer, ModelServerError

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    from ..demo.out_folder import OutFolderError, prepare_out_folder

    out = Path(args.out)
    try:
        prepare_out_folder(out)  # checks before it deletes: only files an earlier demo wrote there
    except OutFolderError as exc:
        raise UserError(str(exc)) from None
    os.environ.setdefault("OTEL_AGENT_PRICES", json.dumps(_demo_prices()))
    tracer_provider, meter_provider, sinks = _providers(out, progress)
    progress("otel-agent demo: starting the local model server (SmolLM2-135M-Instruct on llama.cpp, CPU)...")
    started = time.monotonic()
    try:
        server = LocalModelServer(threads=args.threads).start()
    except ModelServerError as exc:
        raise UserError(str(exc)) from None
    try:
        progress(f"  listening on {server.base_url} ({time.monotonic() - started:.1f}s)")
        _run_agent(server, tracer_provider, meter_provider, progress)
    finally:
        otel_agent.uninstrument()
        server.stop()
        tracer_provider.shutdown()
        meter_provider.shutdown()
    progress(f"telemetry written to: {', '.join(sinks)}")
    code = _print_report(out, args.format)
    html = out / "report.html"
    if code == 0 and html.is_file():
        progress(f"HTML report: {html.resolve()} (open it in a browser)")
        progress("next:")
        progress(f"  otel-agent report --from {out}                  the same report again (--run ID for one run)")
        progress(f"  otel-agent report --from {out} --html FILE      the page above, with your filters")
        progress("  otel-agent stack up                               Collector, Jaeger and Prometheus on this machine")
        progress("  then OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 otel-agent demo   and see it in Jaeger")
    return code


def _demo_prices() -> dict[str, Any]:
    from ..demo.agent import PRICES

    return PRICES


def _run_agent(server: Any, tracer_provider: Any, meter_provider: Any, progress: Any) -> None:
    import openai

    import otel_agent

    from ..demo.agent import TIERS, TriageAgent

    otel_agent.instrument(
        tracer_provider=tracer_provider,
        meter_provider=meter_provider,
        service_name="otel-agent-demo",
        model_tiers=TIERS,
    )
    # llama.cpp's server now and then drops an idle kept-alive connection: the SDK's own retries absorb it
    # (a retried call is still one span: otel-agent records the call around the SDK's retry loop).
    client = openai.OpenAI(base_url=server.openai_base_url, api_key="not-needed-locally", timeout=180, max_retries=2)
    agent = TriageAgent(client, progress)
    progress("run 1: a small model that wastes turns until the stagnation signal makes it escalate")
    agent.wasteful_run_that_escalates()
    progress("run 2: a clean run on the long tier")
    agent.clean_run()
    progress("run 3: a run that stagnates and never escalates (a missed escalation)")
    agent.stagnating_run_without_escalation()


def _print_report(out: Path, fmt: str) -> int:
    from . import report
    from .main import build_parser

    args = build_parser().parse_args(
        ["report", "--from", str(out), "--format", fmt, "--html", str(out / "report.html")]
    )
    return int(report.run(args) or 0)
