"""Options of `otel_agent.instrument()`, each also settable by an ``OTEL_AGENT_*`` variable.

Precedence: an argument given to `instrument()` wins over the variable, which wins over the default.
`docs/configuration.md` lists every option; a test holds that page against `OPTIONS`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .telemetry.content import ContentMode, parse_content_mode

log = logging.getLogger("otel_agent")


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"not a boolean: {text!r}")


def _str_tuple(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _tiers(text: str) -> dict[str, int]:
    """``small-model=1,big-model=3`` -> {"small-model": 1, "big-model": 3}."""
    tiers: dict[str, int] = {}
    for part in _str_tuple(text):
        model, _, tier = part.partition("=")
        tiers[model.strip()] = int(tier)
    return tiers


@dataclass(frozen=True)
class Option:
    name: str
    env: str
    parse: Callable[[str], Any]
    doc: str


@dataclass
class Options:
    service_name: str | None = None
    capture_content: ContentMode | None = None  # None: from OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
    content_max_chars: int = 16_384
    providers: tuple[str, ...] = ("openai", "anthropic", "mcp")
    suppress_anthropic_native_spans: bool = True
    exporter: str = "auto"  # auto | otlp | file | console | none
    file_path: str = "otel-agent-telemetry"
    trajectories: bool = True
    run_idle_timeout_s: float = 30.0
    run_memory_turns: int = 64
    max_inferred_runs: int = 1024
    stagnation_window: int = 2
    model_tiers: dict[str, int] = field(default_factory=dict)
    cost: bool = True
    prices_file: str | None = None
    gpu: str = "auto"  # auto | on | off
    gpu_sample_hz: float = 10.0
    gpu_devices: tuple[str, ...] = ()
    gpu_hourly_price: float | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "service_name",
        "OTEL_AGENT_SERVICE_NAME",
        str,
        "`service.name` of the providers otel-agent sets up (else `OTEL_SERVICE_NAME`, else `otel-agent`).",
    ),
    Option(
        "capture_content",
        "OTEL_AGENT_CAPTURE_CONTENT",
        parse_content_mode,
        "Message content capture: `false`/`true` or `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT`. "
        "Default: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else off.",
    ),
    Option(
        "content_max_chars",
        "OTEL_AGENT_CONTENT_MAX_CHARS",
        int,
        "Size cap of each captured content attribute, in characters (default 16384).",
    ),
    Option(
        "providers",
        "OTEL_AGENT_PROVIDERS",
        _str_tuple,
        "Comma list of what to instrument: `openai`, `anthropic`, `mcp` (default all present).",
    ),
    Option(
        "suppress_anthropic_native_spans",
        "OTEL_AGENT_SUPPRESS_ANTHROPIC_NATIVE_SPANS",
        _bool,
        "Suppress the anthropic SDK's own `anthropic.messages.create` span for calls otel-agent records, so one "
        "call is one span (default true).",
    ),
    Option(
        "exporter",
        "OTEL_AGENT_EXPORTER",
        str,
        "When otel-agent sets up providers: `auto` (OTLP when `OTEL_EXPORTER_OTLP_*ENDPOINT` is set, else the local "
        "OTLP-JSON file), `otlp`, `file`, `console`, `none`. `OTEL_TRACES_EXPORTER`/`OTEL_METRICS_EXPORTER` win.",
    ),
    Option(
        "file_path",
        "OTEL_AGENT_FILE_PATH",
        str,
        "Folder of the OTLP-JSON file exporter (default `otel-agent-telemetry`).",
    ),
    Option(
        "trajectories",
        "OTEL_AGENT_TRAJECTORIES",
        _bool,
        "Follow agent runs, turns, tools, waste and escalations (default true).",
    ),
    Option(
        "run_idle_timeout_s",
        "OTEL_AGENT_RUN_IDLE_TIMEOUT",
        float,
        "Seconds without a turn after which an inferred run ends (default 30).",
    ),
    Option(
        "run_memory_turns",
        "OTEL_AGENT_RUN_MEMORY_TURNS",
        int,
        "Per run, how many recent turns' fingerprints are kept for repeat detection (default 64).",
    ),
    Option(
        "max_inferred_runs",
        "OTEL_AGENT_MAX_INFERRED_RUNS",
        int,
        "Most inferred runs tracked at once; the least recently used ends first (default 1024).",
    ),
    Option(
        "stagnation_window",
        "OTEL_AGENT_STAGNATION_WINDOW",
        int,
        "Wasted turns in a row that make a run stagnate (default 2).",
    ),
    Option(
        "model_tiers",
        "OTEL_AGENT_MODEL_TIERS",
        _tiers,
        "Model tiers for escalation, `model=tier,...` (higher is larger); default: by list price.",
    ),
    Option("cost", "OTEL_AGENT_COST", _bool, "Price every call (default true)."),
    Option(
        "prices_file",
        "OTEL_AGENT_PRICES_FILE",
        str,
        "YAML/JSON file of user prices per million tokens for custom models (see docs/cost.md).",
    ),
    Option(
        "gpu",
        "OTEL_AGENT_GPU",
        str,
        "GPU sampling for calls to local endpoints: `auto` (when NVML finds a GPU), `on`, `off`.",
    ),
    Option("gpu_sample_hz", "OTEL_AGENT_GPU_SAMPLE_HZ", float, "NVML sample rate in Hz (default 10)."),
    Option("gpu_devices", "OTEL_AGENT_GPU_DEVICES", _str_tuple, "Comma list of GPU indexes or UUIDs (default all)."),
    Option(
        "gpu_hourly_price",
        "OTEL_AGENT_GPU_HOURLY_PRICE",
        float,
        "USD per GPU-hour, to price self-hosted models by GPU time.",
    ),
)


def resolve_options(overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Options:
    """Build Options from defaults, then ``OTEL_AGENT_*`` variables, then `instrument()` arguments."""
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Options)}
    unknown = set(overrides) - known
    if unknown:
        raise TypeError(f"otel_agent.instrument() got unknown options: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw = env.get(option.env)
        if raw is None or raw == "":
            continue
        try:
            values[option.name] = option.parse(raw)
        except (ValueError, TypeError) as exc:
            log.warning("otel-agent: ignoring %s=%r: %s", option.env, raw, exc)
    for name, value in overrides.items():
        if name == "capture_content" and isinstance(value, (str, bool)):
            value = parse_content_mode(str(value))
        values[name] = value
    return Options(**values)
