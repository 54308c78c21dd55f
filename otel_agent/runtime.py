"""The live state of an instrumented process: options, providers and the pipeline the SDK hooks feed.

One runtime at a time. `start` is idempotent: a second `instrument()` keeps the first runtime.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from typing import Any

from .config import Options
from .pipeline import Pipeline
from .setup_providers import Providers, resolve_providers
from .telemetry import names as n
from .telemetry.content import ContentMode, content_mode_from_env
from .telemetry.inference import InferenceTelemetry
from .telemetry.instruments import Instruments

log = logging.getLogger("otel_agent")
SCOPE = "otel_agent"


@dataclass
class Runtime:
    options: Options
    providers: Providers
    pipeline: Pipeline
    genai: n.GenAINames
    instruments: Instruments
    tracer: Any
    content: ContentMode

    def shutdown(self) -> None:
        for part in (self.pipeline.trajectory, self.pipeline.gpu):
            close = getattr(part, "shutdown", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.debug("otel-agent: shutdown of %r failed", part, exc_info=True)
        self.providers.shutdown()


_lock = threading.Lock()
_runtime: Runtime | None = None


def current() -> Runtime | None:
    return _runtime


def current_pipeline() -> Pipeline | None:
    runtime = _runtime
    return runtime.pipeline if runtime is not None else None


def start(options: Options, tracer_provider: Any = None, meter_provider: Any = None) -> Runtime:
    global _runtime
    with _lock:
        if _runtime is not None:
            return _runtime
        from . import _version

        providers = resolve_providers(options, tracer_provider, meter_provider)
        genai = n.GenAINames.resolve()
        tracer = providers.tracer_provider.get_tracer(SCOPE, _version.VERSION)
        meter = providers.meter_provider.get_meter(SCOPE, _version.VERSION)
        instruments = Instruments.create(meter, latest=genai.latest)
        content = options.capture_content or content_mode_from_env()
        telemetry = InferenceTelemetry(tracer, instruments, genai, content, options.content_max_chars)
        pipeline = Pipeline(options, telemetry)
        _runtime = Runtime(options, providers, pipeline, genai, instruments, tracer, content)
        _attach_enrichments(_runtime)
        return _runtime


def _attach_enrichments(runtime: Runtime) -> None:
    """Cost, GPU and trajectories: each optional, each failing alone."""
    options = runtime.options
    if options.cost:
        try:
            from .cost.model import CostModel

            runtime.pipeline.cost = CostModel.from_options(options, runtime.instruments)
        except Exception:
            log.warning("otel-agent: pricing is off: could not load price data", exc_info=True)
    if options.gpu != "off":
        try:
            from .gpu.meter import GpuMeter

            runtime.pipeline.gpu = GpuMeter.from_options(options, runtime.instruments)
        except Exception:
            log.debug("otel-agent: GPU sampling is off", exc_info=True)
    if options.trajectories:
        try:
            from .trajectory.tracker import TrajectoryTracker

            runtime.pipeline.trajectory = TrajectoryTracker.from_runtime(runtime)  # type: ignore[assignment]
        except Exception:
            log.warning("otel-agent: trajectory tracking is off", exc_info=True)


def stop() -> None:
    global _runtime
    with _lock:
        runtime, _runtime = _runtime, None
    if runtime is not None:
        runtime.shutdown()


atexit.register(stop)
