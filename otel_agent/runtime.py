"""The live state of an instrumented process: options, OpenTelemetry SDK objects, and the pipeline the SDK hooks feed.

The only place that wires the parts, once, in `start`, in the order their constructors need: telemetry (the one
handler) -> cost (reports list prices to telemetry) -> GPU (reports readings to telemetry) -> trajectory (hands its
run and tool records to telemetry; ranks model tiers by cost's list prices) -> the pipeline over all of them.

One runtime at a time. `start` is idempotent: a second `instrument()` keeps the first runtime.
"""

from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import ContentMode, Options, content_mode_from_env, otel_service_name

if TYPE_CHECKING:  # the parts load in `start`, keeping `import otel_agent` light
    from .cost.model import CostModel
    from .pipeline import Pipeline
    from .setup_providers import Providers
    from .telemetry.handler import TelemetryHandler
    from .trajectory.tracker import TrajectoryTracker

log = logging.getLogger("otel_agent")
SCOPE = "otel_agent"


@dataclass
class Runtime:
    options: Options
    providers: Providers
    telemetry: TelemetryHandler
    pipeline: Pipeline
    content: ContentMode

    @property
    def trajectory(self) -> TrajectoryTracker | None:
        return self.pipeline.trajectory

    @property
    def cost(self) -> CostModel | None:
        return self.pipeline.cost

    def shutdown(self) -> None:
        from .trajectory import api as trajectory_api

        trajectory_api.install(None)
        self.pipeline.shutdown()
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
        from .cost.model import CostModel
        from .gpu.meter import GpuMeter
        from .pipeline import Pipeline
        from .setup_providers import resolve_providers
        from .telemetry import names as n
        from .telemetry.handler import TelemetryHandler
        from .telemetry.instruments import Instruments
        from .trajectory import api as trajectory_api
        from .trajectory.tracker import TrajectoryTracker

        providers = resolve_providers(options, tracer_provider, meter_provider)
        genai = n.GenAINames.resolve()
        tracer = providers.tracer_provider.get_tracer(SCOPE, _version.VERSION)
        meter = providers.meter_provider.get_meter(SCOPE, _version.VERSION)
        instruments = Instruments.create(meter, latest=genai.latest)
        content = options.capture_content or content_mode_from_env()
        telemetry = TelemetryHandler(tracer, instruments, genai, content, options.content_max_chars)
        cost = _part("pricing", options.cost, lambda: CostModel.from_options(options, telemetry.record_list_price))
        gpu = _part(
            "GPU sampling",
            options.gpu != "off",
            lambda: GpuMeter.from_options(options, telemetry.record_gpu_readings),
            level=logging.DEBUG,
        )
        agent_name = options.service_name or otel_service_name() or "agent"
        trajectory = _part(
            "trajectory tracking",
            options.trajectories,
            lambda: TrajectoryTracker.from_options(
                options, telemetry, agent_name=agent_name, list_price=cost.list_price if cost else None
            ),
        )
        pipeline = Pipeline(options, telemetry, trajectory=trajectory, cost=cost, gpu=gpu)
        trajectory_api.install(trajectory)
        _runtime = Runtime(options, providers, telemetry, pipeline, content)
        return _runtime


def _part(what: str, wanted: bool, build: Any, level: int = logging.WARNING) -> Any:
    """An optional part, failing alone: its enrichment is off, the rest runs."""
    if not wanted:
        return None
    try:
        return build()
    except Exception:
        log.log(level, "otel-agent: %s is off", what, exc_info=True)
        return None


def stop() -> None:
    global _runtime
    with _lock:
        runtime, _runtime = _runtime, None
    if runtime is not None:
        runtime.shutdown()


atexit.register(stop)
