"""otel-agent: OpenTelemetry for LLM agents.

import otel_agent
otel_agent.instrument(service_name="support-agent")
"""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from . import runtime
from ._version import VERSION as __version__
from .config import resolve_options

log = logging.getLogger("otel_agent")

__all__ = [
    "__version__",
    "instrument",
    "uninstrument",
    "is_instrumented",
    "agent_run",
    "tool",
    "current_run",
    "session",
]


def instrument(
    *, tracer_provider: Any = None, meter_provider: Any = None, logger_provider: Any = None, **options: Any
) -> None:
    """Instrument the openai and anthropic SDKs (and MCP tool calls) present in this process. Idempotent.

    Uses the application's tracer and meter providers when it has set them (or when passed), otherwise sets up SDK
    providers with `service.name` and the exporters the `OTEL_*` variables choose; likewise a logger provider, for the
    content events (`capture_content` `EVENT_ONLY` / `SPAN_AND_EVENT`). Every option is also an
    `OTEL_AGENT_*` variable: see docs/configuration.md.
    """
    from .instrumentors import INSTRUMENTORS, MODULES

    resolved = resolve_options(options)
    runtime.start(resolved, tracer_provider, meter_provider, logger_provider)
    for name in resolved.providers:
        instrumentor_cls = INSTRUMENTORS.get(name)
        if instrumentor_cls is None:
            log.warning("otel-agent: unknown provider %r in providers option", name)
            continue
        if not _installed(MODULES.get(name, name)):
            continue
        try:
            instrumentor_cls().instrument()
        except Exception:
            log.warning("otel-agent: could not instrument %s", name, exc_info=True)
    try:
        from .frameworks import install_imported

        install_imported()  # framework bridges: those imported now, the others when first seen on a model call
    except Exception:
        log.warning("otel-agent: could not install the framework bridges", exc_info=True)


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package that is missing or not a package
        return False


def uninstrument() -> None:
    """Remove every patch, end open runs and flush the providers `instrument()` set up (they stay installed: a
    later `instrument()` reuses them; they shut down at exit). Idempotent."""
    from .instrumentors import INSTRUMENTORS

    for instrumentor_cls in INSTRUMENTORS.values():
        instrumentor = instrumentor_cls()
        if instrumentor.is_instrumented_by_opentelemetry:
            try:
                instrumentor.uninstrument()
            except Exception:
                log.debug("otel-agent: uninstrument failed", exc_info=True)
    runtime.stop()


def is_instrumented() -> bool:
    return runtime.current() is not None


def __getattr__(name: str) -> Any:
    # The trajectory API loads on first use, keeping `import otel_agent` light.
    if name in {"agent_run", "tool", "current_run", "session"}:
        from . import trajectory

        return getattr(trajectory, name)
    raise AttributeError(name)
