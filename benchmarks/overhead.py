#!/usr/bin/env python3
"""Overhead of otel-agent (and of the anchors) per LLM call and per streamed chunk. A benchmark, not a test.

    python benchmarks/overhead.py --quick          # < 3 minutes on 2 cores
    python benchmarks/overhead.py --rounds 7       # steadier numbers
    bash benchmarks/setup_anchors.sh               # once, to include the anchors (separate venvs)

Workload: the real openai 3.x / anthropic 2.x SDKs against an in-process `httpx2.MockTransport` (no network, no
server): a non-streamed OpenAI chat call, an Anthropic messages call, and OpenAI / Anthropic streams of 20 and 200
content chunks (the two lengths separate the per-call cost of a stream from its per-chunk cost).

Method: each variant runs in its own subprocess (imports, patches and providers never leak between variants); the
variants run in alternating rounds (the order rotates each round) and every number is the median over rounds of the
median of several timed batches. Each worker measures two span pipelines on one tracer provider: BatchSpanProcessor
with a dropping exporter (production-like) and SimpleSpanProcessor with InMemorySpanExporter (synchronous export,
the common test setup). Metrics go to an InMemoryMetricReader in both (its cost is paid at record time).

Variants (absent ones are skipped and listed as such):
  uninstrumented             the SDKs alone, no tracer provider registered (the baseline)
  otel_agent                 `otel_agent.instrument()` with default options (trajectories on, cost on, gpu auto)
  otel_agent (lean)          trajectories=False, cost=False, gpu="off"
  anthropic SDK spans        the anthropic SDK's own spans (client given our tracer provider); Anthropic only
  official GenAI 1.3b0       opentelemetry-instrumentation-genai-openai/-anthropic on opentelemetry-util-genai
  OpenLLMetry 0.62           opentelemetry-instrumentation-openai/-anthropic 0.62.x
  OpenLIT 1.45               needs openai<3 and anthropic<1: it runs in its own venv on openai 2.x / anthropic 0.x
                             over `httpx.MockTransport`, against that venv's own uninstrumented baseline
The anchors live in benchmarks/.venv/anchors and benchmarks/.venv/openlit (see setup_anchors.sh), never in the
project's .venv. Each tool runs with its default settings (content capture included where that is its default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAIN_PYTHON = Path(sys.executable)
ANCHORS_PYTHON = HERE / ".venv" / "anchors" / "bin" / "python"
OPENLIT_PYTHON = HERE / ".venv" / "openlit" / "bin" / "python"

OPENAI_MODEL = "gpt-5.4-mini"
ANTHROPIC_MODEL = "claude-sonnet-4-6"
WORKLOADS = (
    "openai_chat",
    "anthropic_messages",
    "openai_stream_20",
    "openai_stream_200",
    "anthropic_stream_20",
    "anthropic_stream_200",
)
PIPELINES = ("batch", "simple")


@dataclass(frozen=True)
class Variant:
    name: str
    python: Path
    baseline: str  # the variant whose numbers this one is compared with
    workloads: tuple[str, ...] = WORKLOADS


VARIANTS = (  # in order of importance: a --quick run out of budget drops the last ones
    Variant("uninstrumented", MAIN_PYTHON, "uninstrumented"),
    Variant("otel_agent", MAIN_PYTHON, "uninstrumented"),
    Variant("official GenAI 1.3b0", ANCHORS_PYTHON, "uninstrumented"),
    Variant("OpenLLMetry 0.62", ANCHORS_PYTHON, "uninstrumented"),
    Variant("uninstrumented (openai 2.x, anthropic 0.x)", OPENLIT_PYTHON, "uninstrumented (openai 2.x, anthropic 0.x)"),
    Variant("OpenLIT 1.45", OPENLIT_PYTHON, "uninstrumented (openai 2.x, anthropic 0.x)"),
    Variant("otel_agent (lean)", MAIN_PYTHON, "uninstrumented"),
    Variant(
        "anthropic SDK spans",
        MAIN_PYTHON,
        "uninstrumented",
        ("anthropic_messages", "anthropic_stream_20", "anthropic_stream_200"),
    ),
)


# ======================================================================================================================
# worker: runs inside one variant's process (and its venv); imports only what that variant has
# ======================================================================================================================
def _payloads(chunks: int) -> dict[str, bytes]:
    usage = {
        "prompt_tokens": 1117,
        "completion_tokens": 146,
        "total_tokens": 1263,
        "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 64,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    chat = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1741569952,
        "model": "gpt-5.4-mini-2026-03-17",
        "service_tier": "default",
        "system_fingerprint": "fp_06737a9306",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "The capital of France is Paris.",
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": usage,
    }
    base = {
        "id": "chatcmpl-stream",
        "object": "chat.completion.chunk",
        "created": 1741569952,
        "model": "gpt-5.4-mini-2026-03-17",
        "system_fingerprint": "fp_06737a9306",
    }
    events = [
        {
            **base,
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}
            ],
            "usage": None,
        }
    ]
    events += [
        {
            **base,
            "choices": [{"index": 0, "delta": {"content": f" w{i}"}, "logprobs": None, "finish_reason": None}],
            "usage": None,
        }
        for i in range(chunks)
    ]
    events += [
        {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}], "usage": None},
        {**base, "choices": [], "usage": usage},
    ]
    chat_sse = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"

    a_usage = {
        "input_tokens": 2095,
        "output_tokens": 503,
        "cache_creation_input_tokens": 1500,
        "cache_read_input_tokens": 3000,
        "output_tokens_details": {"thinking_tokens": 312},
        "service_tier": "standard",
    }
    message = {
        "id": "msg_013Zva2CMHLNnXjNJJKqJ2EF",
        "type": "message",
        "role": "assistant",
        "model": ANTHROPIC_MODEL,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": a_usage,
        "content": [
            {
                "type": "thinking",
                "thinking": "France's capital is Paris.",
                "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
            },
            {"type": "text", "text": "The capital of France is Paris.", "citations": None},
        ],
    }
    start_usage = {k: v for k, v in a_usage.items() if k != "output_tokens_details"} | {"output_tokens": 1}
    a_events = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_01Stream",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": ANTHROPIC_MODEL,
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": start_usage,
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": "", "citations": None},
            },
        ),
    ]
    a_events += [
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f" w{i}"}},
        )
        for i in range(chunks)
    ]
    a_events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 503, "output_tokens_details": {"thinking_tokens": 312}},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    message_sse = "".join(f"event: {k}\ndata: {json.dumps(d)}\n\n" for k, d in a_events)
    return {
        "chat": json.dumps(chat).encode(),
        "chat_sse": chat_sse.encode(),
        "message": json.dumps(message).encode(),
        "message_sse": message_sse.encode(),
    }


class _Worker:
    def __init__(self, variant: str) -> None:
        import anthropic
        import openai
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SimpleSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        class Drop(SpanExporter):
            def export(self, spans: Any) -> Any:
                return SpanExportResult.SUCCESS

        class Switch(SpanProcessor):
            """Delegates to the pipeline being measured (one tracer provider for both pipelines)."""

            def __init__(self) -> None:
                self.target: Any = None

            def on_start(self, span: Any, parent_context: Any = None) -> None:
                self.target.on_start(span, parent_context=parent_context)

            def on_end(self, span: Any) -> None:
                self.target.on_end(span)

            def shutdown(self) -> None:
                pass

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return self.target.force_flush(timeout_millis)

        self.variant = variant
        self.memory = InMemorySpanExporter()
        self.pipelines = {"batch": BatchSpanProcessor(Drop()), "simple": SimpleSpanProcessor(self.memory)}
        self.switch = Switch()
        self.switch.target = self.pipelines["batch"]
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(self.switch)
        self.meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        self._register_logs()
        self.info: dict[str, Any] = {"openai": openai.__version__, "anthropic": anthropic.__version__}
        self._instrument()
        self.payloads = {n: _payloads(n) for n in (20, 200)}
        self.openai, self.anthropic = openai, anthropic

    @staticmethod
    def _register_logs() -> None:
        """Log records (the GenAI events some tools emit) go to a batch processor with a dropping exporter, as spans
        do; without a registered provider a tool may fall back to printing them."""
        try:
            from opentelemetry._logs import set_logger_provider
            from opentelemetry.sdk._logs import LoggerProvider
            from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
        except ImportError:
            return

        class DropLogs(LogRecordExporter):
            def export(self, batch: Any) -> Any:
                return LogRecordExportResult.SUCCESS

            def shutdown(self) -> None:
                pass

            def force_flush(self, timeout_millis: int = 30000) -> bool:
                return True

        provider = LoggerProvider()
        provider.add_log_record_processor(BatchLogRecordProcessor(DropLogs()))
        set_logger_provider(provider)

    # -- the variant ---------------------------------------------------------------------------------------------
    def _instrument(self) -> None:
        tp, mp, v = self.tracer_provider, self.meter_provider, self.variant
        if v.startswith("uninstrumented") or v == "anthropic SDK spans":
            return
        if v.startswith("otel_agent"):
            import logging

            logging.getLogger("otel_agent").setLevel(logging.ERROR)
            import otel_agent

            options = {} if v == "otel_agent" else {"trajectories": False, "cost": False, "gpu": "off"}
            otel_agent.instrument(tracer_provider=tp, meter_provider=mp, **options)
            from otel_agent import runtime

            pipeline = runtime.current().pipeline  # type: ignore[union-attr]
            self.info["enrichments"] = {
                "trajectories": pipeline.trajectory is not None,
                "cost": pipeline.cost is not None,
                "gpu": pipeline.gpu is not None,
            }
            return
        if v.startswith("official"):
            from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor
            from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor
        elif v.startswith("OpenLLMetry"):
            from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor  # type: ignore[no-redef]
            from opentelemetry.instrumentation.openai import OpenAIInstrumentor  # type: ignore[no-redef]
        elif v.startswith("OpenLIT"):
            # openlit.init takes no providers: it reuses the registered global ones. Its HTTP-client and web
            # instrumentations are turned off so that only its LLM instrumentation is measured.
            from opentelemetry import metrics, trace

            trace.set_tracer_provider(tp)
            metrics.set_meter_provider(mp)
            import openlit

            openlit.init(
                collect_gpu_stats=False,
                disabled_instrumentors=[
                    "httpx",
                    "requests",
                    "urllib",
                    "urllib3",
                    "aiohttp-client",
                    "asgi",
                    "django",
                    "fastapi",
                    "flask",
                    "pyramid",
                    "starlette",
                    "falcon",
                    "tornado",
                ],
            )
            return
        else:
            raise SystemExit(f"unknown variant {v}")
        OpenAIInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)
        AnthropicInstrumentor().instrument(tracer_provider=tp, meter_provider=mp)

    # -- clients over an in-process transport ------------------------------------------------------------------------
    def _http(self, sdk: Any, body: bytes, content_type: str) -> Any:
        major = int(sdk.__version__.split(".")[0])
        new = major >= (3 if sdk.__name__ == "openai" else 2)
        if new:
            import httpx2 as httpx_module  # openai 3.x and anthropic 2.x accept only httpx2 clients
        else:
            import httpx as httpx_module  # type: ignore[no-redef]
        headers = {"content-type": content_type}

        def handle(request: Any) -> Any:
            return httpx_module.Response(200, headers=headers, content=body)

        return httpx_module.Client(transport=httpx_module.MockTransport(handle))

    def call(self, workload: str) -> Any:
        """A zero-argument function making one call of `workload`."""
        messages = [{"role": "user", "content": "What is the capital of France?"}]
        if workload.startswith("openai"):
            stream = workload != "openai_chat"
            payload = self.payloads[int(workload.rsplit("_", 1)[1]) if stream else 20]
            client = self.openai.OpenAI(
                api_key="sk-bench",
                max_retries=0,
                http_client=self._http(
                    self.openai,
                    payload["chat_sse" if stream else "chat"],
                    "text/event-stream" if stream else "application/json",
                ),
            )
            if not stream:
                return lambda: client.chat.completions.create(model=OPENAI_MODEL, messages=messages)

            def openai_stream() -> None:
                for _ in client.chat.completions.create(
                    model=OPENAI_MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
                ):
                    pass

            return openai_stream
        stream = workload != "anthropic_messages"
        payload = self.payloads[int(workload.rsplit("_", 1)[1]) if stream else 20]
        extra: dict[str, Any] = {}
        if self.variant == "anthropic SDK spans":
            extra["open_telemetry"] = {"tracer_provider": self.tracer_provider}
        client = self.anthropic.Anthropic(
            api_key="sk-ant-bench",
            max_retries=0,
            http_client=self._http(
                self.anthropic,
                payload["message_sse" if stream else "message"],
                "text/event-stream" if stream else "application/json",
            ),
            **extra,
        )
        if not stream:
            return lambda: client.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=messages)

        def anthropic_stream() -> None:
            for _ in client.messages.create(model=ANTHROPIC_MODEL, max_tokens=1024, messages=messages, stream=True):
                pass

        return anthropic_stream

    # -- timing --------------------------------------------------------------------------------------------------
    def measure(self, workload: str, pipeline: str, seconds: float, batches: int, clock: str) -> tuple[float, float]:
        """(median µs per call, spans per call)."""
        import gc

        now = time.process_time_ns if clock == "cpu" else time.perf_counter_ns
        self.switch.target = self.pipelines[pipeline]
        call = self.call(workload)
        call()
        start = now()
        call()
        once = max(now() - start, 1000) / 1e9
        per_batch = max(1, int(seconds / batches / once))
        self.pipelines["batch"].force_flush()
        self.memory.clear()
        gc.collect()
        samples = []
        for _ in range(batches):
            t0 = now()
            for _ in range(per_batch):
                call()
            samples.append((now() - t0) / per_batch / 1000)
        spans = len(self.memory.get_finished_spans()) / (batches * per_batch) if pipeline == "simple" else -1.0
        self.memory.clear()
        return statistics.median(samples), spans


def worker_main(
    variant: str, workloads: list[str], seconds: float, batches: int, clock: str, result_file: Path
) -> None:
    worker = _Worker(variant)
    results: dict[str, dict[str, float]] = {}
    spans: dict[str, float] = {}
    for workload in workloads:
        results[workload] = {}
        for pipeline in PIPELINES:
            us, per_call = worker.measure(workload, pipeline, seconds, batches, clock)
            results[workload][pipeline] = us
            if per_call >= 0:
                spans[workload] = per_call
    result_file.write_text(json.dumps({"results": results, "spans_per_call": spans, "info": worker.info}))


# ======================================================================================================================
# orchestrator
# ======================================================================================================================
def _available(variant: Variant) -> str | None:
    """None when the variant can run, else why not."""
    if not variant.python.exists():
        return f"no venv ({variant.python.parent.parent.relative_to(ROOT)}): run benchmarks/setup_anchors.sh"
    probe = {
        "official": "opentelemetry.instrumentation.genai.openai",
        "OpenLLMetry": "opentelemetry.instrumentation.openai",
        "OpenLIT": "openlit",
    }
    module = next((m for prefix, m in probe.items() if variant.name.startswith(prefix)), "openai")
    done = subprocess.run(
        [
            str(variant.python),
            "-c",
            f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)",
        ],
        capture_output=True,
    )
    return None if done.returncode == 0 else f"{module} is not installed in {variant.python}"


def _run_worker(variant: Variant, seconds: float, batches: int, clock: str, timeout: float) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "OTEL_SDK_DISABLED": "false",
        "PYTHONHASHSEED": "0",
        "OTEL_TRACES_EXPORTER": "none",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
    }
    for name in (
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "OTEL_SEMCONV_STABILITY_OPT_IN",
        "ANTHROPIC_OPEN_TELEMETRY",
    ):
        env.pop(name, None)
    with tempfile.TemporaryDirectory() as folder:
        result_file = Path(folder) / "result.json"
        command = [
            str(variant.python),
            str(Path(__file__).resolve()),
            "--worker",
            variant.name,
            "--workloads",
            ",".join(variant.workloads),
            "--seconds",
            str(seconds),
            "--batches",
            str(batches),
            "--clock",
            clock,
            "--result-file",
            str(result_file),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout:.0f} s"}
        if done.returncode != 0 or not result_file.exists():
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            return {"error": lines[-1] if lines else f"exit {done.returncode}"}
        return json.loads(result_file.read_text())


def _fmt_us(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def _cell(value: float | None, base: float | None) -> str:
    if value is None or base is None:
        return "—"
    return (
        f"+{value - base:.0f} µs ({value / base:.2f}x)"
        if value >= base
        else f"{value - base:.0f} µs ({value / base:.2f}x)"
    )


def _per_chunk(values: dict[str, float], base: dict[str, float], sdk: str) -> tuple[str, str]:
    """(added µs per chunk, added µs per stream besides its chunks) from the 20- and 200-chunk streams."""
    short, long = f"{sdk}_stream_20", f"{sdk}_stream_200"
    if not all(k in values and k in base for k in (short, long)):
        return "—", "—"
    added_short, added_long = values[short] - base[short], values[long] - base[long]
    chunk = (added_long - added_short) / 180
    return f"{chunk:+.1f} µs", f"{added_short - 20 * chunk:+.0f} µs"


def render(
    medians: dict[str, dict[str, dict[str, float]]],
    spans: dict[str, dict[str, float]],
    skipped: dict[str, str],
    info: dict[str, Any],
    rounds: int,
    elapsed: float,
    spread: dict[str, float],
    clock: str,
) -> str:
    clock_text = "process CPU time" if clock == "cpu" else "wall time"
    out = [
        f"# otel-agent overhead ({rounds} alternating round(s), {clock_text}, {elapsed:.0f} s, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} cores)",
        "",
    ]
    columns = [
        "OpenAI chat",
        "Anthropic messages",
        "OpenAI stream 20",
        "OpenAI stream 200",
        "Anthropic stream 20",
        "Anthropic stream 200",
    ]
    for pipeline, title in (
        ("batch", "BatchSpanProcessor + dropping exporter"),
        ("simple", "SimpleSpanProcessor + InMemorySpanExporter"),
    ):
        out += [
            f"## {title}",
            "",
            "| variant | spans/call | " + " | ".join(columns) + " | per OpenAI chunk | OpenAI stream besides "
            "chunks | per Anthropic chunk | Anthropic stream besides chunks |",
            "|---" * (len(columns) + 6) + "|",
        ]
        for variant in VARIANTS:
            if variant.name in skipped:
                continue
            values = {w: r[pipeline] for w, r in medians.get(variant.name, {}).items()}
            if not values:
                continue
            base = {w: r[pipeline] for w, r in medians.get(variant.baseline, {}).items()}
            per_call = spans.get(variant.name, {})
            span_text = "/".join(sorted({f"{v:g}" for v in per_call.values()})) or "—"
            if variant.name == variant.baseline:
                cells = [_fmt_us(values[w]) if w in values else "—" for w in WORKLOADS] + ["—"] * 4
            else:
                cells = [_cell(values.get(w), base.get(w)) for w in WORKLOADS]
                cells += [*_per_chunk(values, base, "openai"), *_per_chunk(values, base, "anthropic")]
            out.append(f"| {variant.name} | {span_text} | " + " | ".join(cells) + " |")
        out.append("")
    out += [
        "Cells: added time per call against the variant's baseline (the uninstrumented row of the same SDK "
        "versions), and the ratio. Per chunk = (added on the 200-chunk stream − added on the 20-chunk stream) "
        "/ 180; 'besides chunks' = what a stream costs once, apart from its chunks.",
        "",
    ]
    if spread:
        out.append(
            "Round-to-round spread of the uninstrumented OpenAI chat time (max/min over rounds): "
            + ", ".join(f"{k} {v:.2f}x" for k, v in spread.items())
            + ". Absolute times drift with machine load; ratios taken "
            "in one run hold better."
        )
        out.append("")
    for name, details in info.items():
        out.append(f"- {name}: {json.dumps(details, sort_keys=True)}")
    for name, why in skipped.items():
        out.append(f"- {name}: skipped ({why})")
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2 rounds, short timings, and a 170 s budget: rounds that would not fit are dropped",
    )
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="timed seconds per workload and pipeline")
    parser.add_argument("--batches", type=int, default=None, help="timed batches per workload and pipeline")
    parser.add_argument("--budget", type=float, default=None, help="stop starting rounds after this many seconds")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: the process's CPU time (all its threads; robust to other load on the machine, "
        "the default); wall: elapsed time",
    )
    parser.add_argument("--variants", default="", help="comma list of variant names to run (default: all present)")
    parser.add_argument("--output", type=Path, default=None, help="also write the markdown table here")
    parser.add_argument("--json", type=Path, default=None, help="also write raw per-round numbers here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help=argparse.SUPPRESS)
    parser.add_argument("--result-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        worker_main(
            args.worker, args.workloads.split(","), args.seconds or 0.2, args.batches or 5, args.clock, args.result_file
        )
        return

    rounds = args.rounds or (2 if args.quick else 5)
    seconds = args.seconds or (0.08 if args.quick else 0.5)
    batches = args.batches or (3 if args.quick else 5)
    budget = args.budget or (170.0 if args.quick else None)
    wanted = {v.strip() for v in args.variants.split(",") if v.strip()}
    variants = [v for v in VARIANTS if not wanted or v.name in wanted or v.name == v.baseline]
    skipped: dict[str, str] = {}
    for variant in variants:
        why = _available(variant)
        if why:
            skipped[variant.name] = why
    runnable = [v for v in variants if v.name not in skipped and v.baseline not in skipped]
    for variant in variants:
        if variant.name not in skipped and variant.baseline in skipped:
            skipped[variant.name] = f"its baseline ({variant.baseline}) cannot run"

    started = time.monotonic()
    per_round: dict[str, list[dict[str, Any]]] = {v.name: [] for v in runnable}
    info: dict[str, Any] = {}
    done_rounds = 0
    workers_run = 0
    out_of_budget = False
    for round_index in range(rounds):
        if out_of_budget:
            break
        done_rounds += 1
        # alternate: the first round keeps the order of importance, later ones rotate it
        shift = round_index % len(runnable)
        order = runnable[shift:] + runnable[:shift]
        for variant in order:
            elapsed = time.monotonic() - started
            if budget is not None and workers_run and elapsed + elapsed / workers_run > budget:
                print(f"stopping: another worker would pass the {budget:.0f} s budget", file=sys.stderr)
                out_of_budget = True
                break
            workers_run += 1
            result = _run_worker(variant, seconds, batches, args.clock, timeout=300)
            print(
                f"round {round_index + 1}/{rounds} {variant.name}: "
                f"{'error: ' + result['error'] if 'error' in result else 'ok'}",
                file=sys.stderr,
                flush=True,
            )
            if "error" in result:
                skipped.setdefault(variant.name, f"failed: {result['error']}")
                continue
            per_round[variant.name].append(result)
            info[variant.name] = result["info"]

    medians: dict[str, dict[str, dict[str, float]]] = {}
    spans: dict[str, dict[str, float]] = {}
    spread: dict[str, float] = {}
    for name, results in per_round.items():
        if not results or name in skipped:
            continue
        medians[name] = {
            w: {p: statistics.median(r["results"][w][p] for r in results) for p in PIPELINES}
            for w in results[0]["results"]
        }
        spans[name] = results[0]["spans_per_call"]
        if name.startswith("uninstrumented") and len(results) > 1:
            chat = [r["results"]["openai_chat"]["batch"] for r in results]
            spread[name] = max(chat) / min(chat)
    table = render(medians, spans, skipped, info, done_rounds, time.monotonic() - started, spread, args.clock)
    print(table)
    if args.output:
        args.output.write_text(table)
    if args.json:
        args.json.write_text(json.dumps({"rounds": per_round, "skipped": skipped}, indent=1))


if __name__ == "__main__":
    main()
