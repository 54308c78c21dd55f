"""The live state of an instrumented process: options, OpenTelemetry SDK objects, and the pipeline the SDK hooks feed.

The only place that wires the parts, once, in `start`, in the order their constructors need: telemetry (the one
handler) -> cost (reports list prices to telemetry) -> GPU (reports readings to telemetry) -> trajectory (hands its
run and tool records to telemetry; ranks model tiers by cost's list prices) -> the pipeline over all of them.

One runtime at a time. `start` is idempotent: a second `instrument()` keeps the first runtime.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .config import ContentMode, Options, content_mode_from_env, latest_conventions_requested, service_name

if TYPE_CHECKING:  # the parts load in `start`, keeping `import otel_agent` light
    from .cost.model import CostModel
    from .otel_sdk import OtelSdk
    from .pipeline import Pipeline
    from .telemetry import names as n
    from .telemetry.events import InferenceDetailsEvents
    from .telemetry.handler import TelemetryHandler
    from .trajectory.tracker import TrajectoryTracker

log = logging.getLogger("otel_agent")
SCOPE = "otel_agent"


@dataclass
class Runtime:
    options: Options
    sdk: OtelSdk  # the OpenTelemetry tracer, meter and logger providers in use (the application's, or ours)
    telemetry: TelemetryHandler
    pipeline: Pipeline
    content: ContentMode

    @property
    def trajectory(self) -> TrajectoryTracker | None:
        return self.pipeline.trajectory

    @property
    def cost(self) -> CostModel | None:
        return self.pipeline.cost

    def end_runs(self) -> None:
        """End open runs and stop samplers, while the providers still export."""
        self.pipeline.shutdown()

    def shutdown(self, *, final: bool = False) -> None:
        """End runs, then flush (uninstrument) or shut down (exit) the providers we own, within exit_timeout_s."""
        from .trajectory import api as trajectory_api

        trajectory_api.install(None)
        self.end_runs()
        timeout = self.options.exit_timeout_s
        if final:
            self.sdk.shutdown(timeout)
        else:
            self.sdk.flush(timeout)


_lock = threading.Lock()
_runtime: Runtime | None = None


def current() -> Runtime | None:
    return _runtime


def current_pipeline() -> Pipeline | None:
    runtime = _runtime
    return runtime.pipeline if runtime is not None else None


def start(
    options: Options, tracer_provider: Any = None, meter_provider: Any = None, logger_provider: Any = None
) -> Runtime:
    global _runtime
    with _lock:
        if _runtime is not None:
            return _runtime
        from . import _version
        from .cost.model import CostModel
        from .gpu.meter import GpuMeter
        from .otel_sdk import resolve_otel_sdk
        from .pipeline import Pipeline
        from .telemetry import names as n
        from .telemetry.handler import TelemetryHandler
        from .telemetry.instruments import Instruments
        from .trajectory import api as trajectory_api
        from .trajectory.tracker import TrajectoryTracker

        content = options.capture_content or content_mode_from_env()
        providers = resolve_otel_sdk(
            options, tracer_provider, meter_provider, logs=content.on_event, logger_provider=logger_provider
        )
        genai = n.GenAINames.resolve(latest_conventions_requested())
        tracer = providers.tracer_provider.get_tracer(SCOPE, _version.VERSION)
        meter = providers.meter_provider.get_meter(SCOPE, _version.VERSION)
        instruments = Instruments.create(meter, latest=genai.latest)
        events = _content_events(providers, genai, options) if content.on_event else None
        telemetry = TelemetryHandler(tracer, instruments, genai, content, options.content_max_chars, events)
        cost = _part("pricing", options.cost, lambda: CostModel.from_options(options, telemetry.record_list_price))
        gpu = _part(
            "GPU sampling",
            options.gpu != "off",
            lambda: GpuMeter.from_options(options, telemetry.record_gpu_readings),
            level=logging.DEBUG,
        )
        agent_name = service_name(options, default="agent")  # an inferred run's agent
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
        _order_exit(providers)
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


# -- process lifecycle: exit and fork ----------------------------------------------------------------------------
_guarded: weakref.WeakSet[Any] = weakref.WeakSet()  # application tracer providers with our guard


def _order_exit(providers: OtelSdk) -> None:
    """Our exit hook runs before the providers' own: atexit runs last-registered first, and the application's (or
    the auto-instrumentation's) providers exist by now, so registering here puts us ahead of them. OtelSdk we own
    have no exit hook of their own (`otel_sdk`). An application provider created later, or shut down
    explicitly, is covered by a guard that ends open runs first."""
    from .otel_sdk import install_shutdown_guard

    atexit.unregister(_at_exit)
    atexit.register(_at_exit)
    provider = providers.tracer_provider
    if providers.owned_tracer is not None:
        return
    try:
        if provider in _guarded:
            return
        if install_shutdown_guard(provider, functools.partial(_end_runs, provider)):
            _guarded.add(provider)
    except TypeError:  # a provider that cannot be weakly referenced: no guard, the exit hook still runs first
        return


def _end_runs(provider: Any) -> None:
    """The guard of `provider`: end the open runs if the runtime still uses it (an old provider shutting down
    later never ends the runs of a newer runtime)."""
    runtime = _runtime
    if runtime is not None and runtime.sdk.tracer_provider is provider:
        runtime.end_runs()


def _at_exit() -> None:
    stop(final=True)


def _after_fork_in_child() -> None:
    """The child starts with no runs: the parent owns the open ones (their spans and turn counts)."""
    runtime = _runtime
    if runtime is None:
        return
    forget = getattr(runtime.pipeline.trajectory, "forget_after_fork", None)
    if forget is not None:
        try:
            forget()
        except Exception:
            log.debug("otel-agent: resetting runs after fork failed", exc_info=True)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _content_events(providers: OtelSdk, genai: n.GenAINames, options: Options) -> InferenceDetailsEvents | None:
    if providers.logger_provider is None:
        return None
    from . import _version
    from .telemetry.events import InferenceDetailsEvents

    logger = providers.logger_provider.get_logger(SCOPE, _version.VERSION)
    return InferenceDetailsEvents(logger, genai, options.content_max_chars)


def stop(*, final: bool = False) -> None:
    """Stop the runtime: `final` at exit shuts our providers down; otherwise (uninstrument) they are flushed."""
    global _runtime, _exit_timeout_s
    with _lock:
        runtime, _runtime = _runtime, None
    if runtime is not None:
        _exit_timeout_s = runtime.options.exit_timeout_s
        runtime.shutdown(final=final)
    elif final:  # uninstrumented earlier: the providers we set up were only flushed then
        from .otel_sdk import shutdown_owned

        shutdown_owned(_exit_timeout_s)


_exit_timeout_s = 3.0
