"""Options of `otel_agent.instrument()`, each also settable by an ``OTEL_AGENT_*`` variable, and their one
validation step.

Precedence: an argument given to `instrument()` wins over the variable, which wins over the default.
`docs/configuration.md` lists every option with what it accepts; a test holds that page against `OPTIONS` and feeds
every option bad values generated from it.

Every value, from a variable (text) or an argument (any Python value), goes through its option's `Kind`. A value
that does not fit gets ONE warning line naming the option, the value and what is used instead (the variable's value
when a bad argument had one, else the default), and nothing else changes: `resolve_options` never raises.

To add an option: a field of `Options` (its default) and an `Option` in `OPTIONS` with a `Kind` (``Bool()``,
``Int(min=1)``, ``Float(min=0)``, ``Choice("a", "b")``, ...), then its row in docs/configuration.md.
"""

from __future__ import annotations

import enum
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from .ratelog import RateLimitedLog
from .redaction import redact

# What the `providers` option may name: the keys of `instrumentors.INSTRUMENTORS` (a test holds them equal).
PROVIDER_NAMES: tuple[str, ...] = (
    "openai",
    "anthropic",
    "mcp",
    "gemini",
    "bedrock",
    "groq",
    "ollama",
    "litellm",
    "mistral",
)

log = logging.getLogger("otel_agent")

CAPTURE_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"


class ContentMode(enum.Enum):
    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        return self in (ContentMode.SPAN_ONLY, ContentMode.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        return self in (ContentMode.EVENT_ONLY, ContentMode.SPAN_AND_EVENT)


def parse_content_mode(text: str) -> ContentMode:
    """Legacy `true`/`false` and the newest mode names; anything else is off."""
    value = text.strip()
    lowered = value.lower()
    if lowered in {"true", "1", "yes", "on"}:
        return ContentMode.SPAN_ONLY
    if lowered in {"false", "0", "no", "off", ""}:
        return ContentMode.NO_CONTENT
    try:
        return ContentMode(value.upper())
    except ValueError:
        raise ValueError(f"unknown content capture mode {text!r}") from None


def content_mode_from_env(environ: Mapping[str, str] | None = None) -> ContentMode:
    """The standard GenAI content-capture variable (used when the `capture_content` option is not set)."""
    env = os.environ if environ is None else environ
    try:
        return parse_content_mode(env.get(CAPTURE_ENV, ""))
    except ValueError:
        return ContentMode.NO_CONTENT


GPU_LOCAL_HOSTS_ENV = "OTEL_AGENT_GPU_LOCAL_HOSTS"
PRICES_ENV = "OTEL_AGENT_PRICES"
PRICES_FILE_ENV = "OTEL_AGENT_PRICES_FILE"


def gpu_local_hosts_from_env(environ: Mapping[str, str] | None = None) -> str:
    """``OTEL_AGENT_GPU_LOCAL_HOSTS``: extra hosts and networks whose calls count as local (parsed, with one warning per
    bad entry, by `gpu.local_endpoint.LocalHosts`)."""
    return (os.environ if environ is None else environ).get(GPU_LOCAL_HOSTS_ENV, "")


def prices_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, str | None]:
    """``OTEL_AGENT_PRICES`` (inline JSON, or "") and ``OTEL_AGENT_PRICES_FILE`` (a path, or None): user prices,
    parsed entry by entry by `cost.overrides`."""
    env = os.environ if environ is None else environ
    return env.get(PRICES_ENV, "").strip(), (env.get(PRICES_FILE_ENV, "").strip() or None)


LATEST_OPT_IN = "gen_ai_latest_experimental"


def latest_conventions_requested(environ: Mapping[str, str] | None = None) -> bool:
    """``OTEL_SEMCONV_STABILITY_OPT_IN`` names ``gen_ai_latest_experimental``: emit the newest GenAI names."""
    opt_in = (os.environ if environ is None else environ).get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    return LATEST_OPT_IN in {part.strip() for part in opt_in.split(",")}


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_SHOWN_MAX = 80  # a bad value is shown at most this long in its warning


class Invalid(ValueError):
    """A value an option does not accept; the message says what it accepts."""


# -- kinds: what an option accepts ----------------------------------------------------------------------------------
class Kind:
    """Turns a variable's text or an argument's value into the option's value, or raises `Invalid`."""

    accepts = "a value"  # shown in warnings and in docs/configuration.md's "accepts" column

    def from_text(self, text: str) -> Any:
        return self.from_value(text)

    def from_value(self, value: Any) -> Any:
        raise NotImplementedError


class Bool(Kind):
    accepts = "boolean (`true`/`false`, `1`/`0`, `yes`/`no`, `on`/`off`)"

    def from_value(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in _TRUE:
                return True
            if lowered in _FALSE:
                return False
        raise Invalid("expected a boolean (true/false)")


def _number_text(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise Invalid("not a number") from None


class _Bounded(Kind):
    def __init__(self, min: float | None = None, max: float | None = None, *, above: bool = False) -> None:
        self.min = min
        self.max = max
        self.above = above  # min is exclusive

    def _range(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"{'>' if self.above else '≥'} {_fmt(self.min)}")
        if self.max is not None:
            parts.append(f"≤ {_fmt(self.max)}")
        return (" " + " and ".join(parts)) if parts else ""

    def _check(self, number: float) -> None:
        if not math.isfinite(number):
            raise Invalid(f"expected {self.accepts}")
        if self.min is not None and (number <= self.min if self.above else number < self.min):
            raise Invalid(f"expected {self.accepts}")
        if self.max is not None and number > self.max:
            raise Invalid(f"expected {self.accepts}")


class Int(_Bounded):
    @property
    def accepts(self) -> str:  # type: ignore[override]
        return "integer" + self._range()

    def from_text(self, text: str) -> int:
        try:
            number = int(text.strip())
        except ValueError:
            raise Invalid(f"expected {self.accepts}") from None
        return self.from_value(number)

    def from_value(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, str):
                return self.from_text(value)
            raise Invalid(f"expected {self.accepts}")
        self._check(value)
        return value


class Float(_Bounded):
    @property
    def accepts(self) -> str:  # type: ignore[override]
        return "number" + self._range()

    def from_text(self, text: str) -> float:
        try:
            return self.from_value(_number_text(text))
        except Invalid:
            raise Invalid(f"expected {self.accepts}") from None

    def from_value(self, value: Any) -> float:
        if isinstance(value, str):
            return self.from_text(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(f"expected {self.accepts}")
        number = float(value)
        self._check(number)
        return number


class Text(Kind):
    accepts = "text"

    def from_value(self, value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or "\x00" in value:
            raise Invalid("expected non-empty text")
        return value.strip()


class Choice(Kind):
    def __init__(self, *choices: str, aliases: Mapping[Any, str] | None = None) -> None:
        self.choices = choices
        self.aliases: dict[Any, str] = dict(aliases or {})

    @property
    def accepts(self) -> str:  # type: ignore[override]
        return "one of " + ", ".join(f"`{c}`" for c in self.choices)

    def from_value(self, value: Any) -> str:
        if isinstance(value, bool) and value in self.aliases:
            return self.aliases[value]
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in self.choices:
                return lowered
            if lowered in self.aliases:
                return self.aliases[lowered]
        raise Invalid(f"expected one of {', '.join(self.choices)}")


class Names(Kind):
    """A comma list (text) or a list of names (argument); with `choices`, each name must be one of them."""

    def __init__(self, *choices: str, pattern: str | None = None, what: str = "") -> None:
        self.choices = choices
        self.pattern = re.compile(pattern) if pattern else None
        self.what = what

    @property
    def accepts(self) -> str:  # type: ignore[override]
        if self.choices:
            return "comma list of " + ", ".join(f"`{c}`" for c in self.choices)
        return f"comma list of {self.what}" if self.what else "comma list"

    def from_value(self, value: Any) -> tuple[str, ...]:
        if isinstance(value, str):
            items: Iterable[Any] = value.split(",")
        elif isinstance(value, (list, tuple, set, frozenset)):
            items = value
        else:
            raise Invalid("expected a comma list or a list of names")
        names: list[str] = []
        for item in items:
            if not isinstance(item, str):
                raise Invalid("expected a comma list or a list of names")
            name = item.strip()
            if not name:
                continue
            if self.choices:
                name = name.lower()
                if name not in self.choices:
                    raise Invalid(f"unknown name {_shown(name)} (expected {', '.join(self.choices)})")
            elif self.pattern is not None and not self.pattern.fullmatch(name):
                raise Invalid(f"{_shown(name)} is not one of the {self.what}")
            if name not in names:
                names.append(name)
        return tuple(names)


class Content(Kind):
    accepts = "boolean, or one of `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT`"

    def from_value(self, value: Any) -> ContentMode:
        if isinstance(value, ContentMode):
            return value
        if isinstance(value, bool):
            return ContentMode.SPAN_ONLY if value else ContentMode.NO_CONTENT
        if isinstance(value, str) and value.strip():
            try:
                return parse_content_mode(value)
            except ValueError:
                pass
        raise Invalid("expected true/false or NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT")


class Tiers(Kind):
    """``small-model=1,big-model=3`` (text) or ``{"small-model": 1, ...}`` (argument): model -> finite number."""

    accepts = "`model=tier` comma list (tier a number)"

    def from_text(self, text: str) -> dict[str, float]:
        tiers: dict[str, Any] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            model, sep, tier = part.partition("=")
            if not sep:
                raise Invalid("expected model=tier pairs")
            tiers[model.strip()] = _number_text(tier) if tier.strip() else math.nan
        return self.from_value(tiers)

    def from_value(self, value: Any) -> dict[str, float]:
        if not isinstance(value, Mapping):
            if isinstance(value, str):
                return self.from_text(value)
            raise Invalid("expected a mapping of model name to tier")
        tiers: dict[str, float] = {}
        for model, tier in value.items():
            if not isinstance(model, str) or not model.strip():
                raise Invalid("expected model names as non-empty text")
            if isinstance(tier, bool) or not isinstance(tier, (int, float)) or not math.isfinite(tier):
                raise Invalid(f"tier of {model!r} is not a finite number")
            tiers[model.strip()] = tier
        return tiers


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


# -- the options ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Option:
    name: str
    env: str
    kind: Kind
    doc: str
    optional: bool = False  # the argument may be None (meaning: not set)


@dataclass
class Options:
    service_name: str | None = None
    capture_content: ContentMode | None = None  # None: from OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT
    content_max_chars: int = 16_384
    providers: tuple[str, ...] = PROVIDER_NAMES
    suppress_anthropic_native_spans: bool = True
    join_inference_spans: bool = True
    exporter: str = "auto"  # auto | otlp | file | console | none
    file_path: str = "otel-agent-telemetry"
    trajectories: bool = True
    run_idle_timeout_s: float = 30.0
    run_memory_turns: int = 64
    max_inferred_runs: int = 1024
    stagnation_window: int = 2
    model_tiers: dict[str, float] = field(default_factory=dict)
    cost: bool = True
    prices_file: str | None = None
    gpu: str = "auto"  # auto | on | off
    gpu_sample_hz: float = 10.0
    gpu_devices: tuple[str, ...] = ()
    gpu_hourly_price: float | None = None
    exit_timeout_s: float = 3.0
    file_max_bytes: int = 64 * 1024 * 1024
    file_backups: int = 3


OPTIONS: tuple[Option, ...] = (
    Option(
        "service_name",
        "OTEL_AGENT_SERVICE_NAME",
        Text(),
        "`service.name` of the providers otel-agent sets up (else `OTEL_SERVICE_NAME`, else `otel-agent`).",
        optional=True,
    ),
    Option(
        "capture_content",
        "OTEL_AGENT_CAPTURE_CONTENT",
        Content(),
        "Message content capture: `false`/`true` or `NO_CONTENT`, `SPAN_ONLY`, `EVENT_ONLY`, `SPAN_AND_EVENT`. "
        "Default: `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`, else off.",
        optional=True,
    ),
    Option(
        "content_max_chars",
        "OTEL_AGENT_CONTENT_MAX_CHARS",
        Int(min=1),
        "Size cap of each captured content attribute, in characters (default 16384).",
    ),
    Option(
        "providers",
        "OTEL_AGENT_PROVIDERS",
        Names(*PROVIDER_NAMES),
        "Comma list of what to instrument: `openai`, `anthropic`, `mcp`, `gemini`, `bedrock`, `groq`, `ollama`, `litellm`, `mistral` (default all present).",
    ),
    Option(
        "suppress_anthropic_native_spans",
        "OTEL_AGENT_SUPPRESS_ANTHROPIC_NATIVE_SPANS",
        Bool(),
        "Suppress the anthropic SDK's own `anthropic.messages.create` span for calls otel-agent records, so one "
        "call is one span (default true).",
    ),
    Option(
        "join_inference_spans",
        "OTEL_AGENT_JOIN_INFERENCE_SPANS",
        Bool(),
        "When another instrumentation (official GenAI, OpenLLMetry, OpenInference, a framework) already has an "
        "inference span open for the call, add otel-agent's attributes to it instead of opening a second span and "
        "recording the `gen_ai.client.*` metrics twice (default true).",
    ),
    Option(
        "exporter",
        "OTEL_AGENT_EXPORTER",
        Choice("auto", "otlp", "file", "console", "none"),
        "When otel-agent sets up providers: `auto` (OTLP when `OTEL_EXPORTER_OTLP_*ENDPOINT` is set, else the local "
        "OTLP-JSON file), `otlp`, `file`, `console`, `none`. `OTEL_TRACES_EXPORTER`/`OTEL_METRICS_EXPORTER` win.",
    ),
    Option(
        "file_path",
        "OTEL_AGENT_FILE_PATH",
        Text(),
        "Folder of the OTLP-JSON file exporter (default `otel-agent-telemetry`).",
    ),
    Option(
        "trajectories",
        "OTEL_AGENT_TRAJECTORIES",
        Bool(),
        "Follow agent runs, turns, tools, waste and escalations (default true).",
    ),
    Option(
        "run_idle_timeout_s",
        "OTEL_AGENT_RUN_IDLE_TIMEOUT",
        Float(min=0, max=86_400 * 365, above=True),
        "Seconds without a turn after which an inferred run ends (default 30).",
    ),
    Option(
        "run_memory_turns",
        "OTEL_AGENT_RUN_MEMORY_TURNS",
        Int(min=1, max=1_000_000),
        "Per run, how many recent turns' fingerprints are kept for repeat detection (default 64).",
    ),
    Option(
        "max_inferred_runs",
        "OTEL_AGENT_MAX_INFERRED_RUNS",
        Int(min=1, max=10_000_000),
        "Most inferred runs tracked at once; the least recently used ends first (default 1024).",
    ),
    Option(
        "stagnation_window",
        "OTEL_AGENT_STAGNATION_WINDOW",
        Int(min=1, max=1_000_000),
        "Wasted turns in a row that make a run stagnate (default 2).",
    ),
    Option(
        "model_tiers",
        "OTEL_AGENT_MODEL_TIERS",
        Tiers(),
        "Model tiers for escalation, `model=tier,...` (higher is larger); default: by list price.",
    ),
    Option("cost", "OTEL_AGENT_COST", Bool(), "Price every call (default true)."),
    Option(
        "prices_file",
        "OTEL_AGENT_PRICES_FILE",
        Text(),
        "YAML/JSON file of user prices per million tokens for custom models (see docs/cost.md).",
        optional=True,
    ),
    Option(
        "gpu",
        "OTEL_AGENT_GPU",
        Choice("auto", "on", "off", aliases={True: "on", False: "off", "true": "on", "false": "off"}),
        "GPU sampling for calls to local endpoints: `auto` (when NVML finds a GPU), `on`, `off`.",
    ),
    Option(
        "gpu_sample_hz",
        "OTEL_AGENT_GPU_SAMPLE_HZ",
        Float(min=0, max=1000, above=True),
        "NVML sample rate in Hz (default 10).",
    ),
    Option(
        "gpu_devices",
        "OTEL_AGENT_GPU_DEVICES",
        Names(pattern=r"\d{1,4}|(?:GPU|MIG)-[0-9A-Za-z/\-]{1,96}", what="GPU indexes or UUIDs"),
        "Comma list of GPU indexes or UUIDs (default all).",
    ),
    Option(
        "gpu_hourly_price",
        "OTEL_AGENT_GPU_HOURLY_PRICE",
        Float(min=0),
        "USD per GPU-hour, to price self-hosted models by GPU time.",
        optional=True,
    ),
    Option(
        "exit_timeout_s",
        "OTEL_AGENT_EXIT_TIMEOUT",
        Float(min=0, max=3600),
        "At process exit, the most seconds spent ending open runs and flushing the providers otel-agent set up "
        "(default 3); what is still unsent then is dropped, with one WARNING line saying what.",
    ),
    Option(
        "file_max_bytes",
        "OTEL_AGENT_FILE_MAX_BYTES",
        Int(min=0),
        "Size in bytes at which an OTLP-JSON telemetry file rotates (default 67108864, 64 MiB; 0: never).",
    ),
    Option(
        "file_backups",
        "OTEL_AGENT_FILE_BACKUPS",
        Int(min=0, max=1000),
        "Rotated OTLP-JSON files kept per signal, `traces.1.otlp.jsonl` the newest (default 3; 0: drop on rotation).",
    ),
)
_BY_NAME = {option.name: option for option in OPTIONS}


def _shown(value: Any) -> str:
    """The value as it appears in a warning: repr, one line, bounded, secrets masked."""
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    text = redact(text)
    return text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 3] + "..."


def resolve_options(overrides: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Options:
    """Build Options from defaults, then ``OTEL_AGENT_*`` variables, then `instrument()` arguments.

    Never raises: each bad value is one warning line and the value below it in precedence is used.
    """
    env = os.environ if environ is None else environ
    defaults = Options()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for option in OPTIONS:
        raw = env.get(option.env)
        if raw is None or raw == "":
            continue
        try:
            values[option.name] = option.kind.from_text(raw)
            sources[option.name] = option.env
        except Invalid as exc:
            _warn(f"{option.env}={_shown(raw)}", exc, getattr(defaults, option.name), None)
    for name, value in overrides.items():
        found = _BY_NAME.get(name)
        if found is None:
            log.warning("otel-agent: ignoring unknown option %s=%s of instrument()", _safe_name(name), _shown(value))
            continue
        option = found
        if value is None and option.optional:
            continue
        try:
            values[name] = option.kind.from_value(value)
            sources[name] = "argument"
        except Invalid as exc:
            used = values.get(name, getattr(defaults, name))
            _warn(f"instrument({name}={_shown(value)})", exc, used, sources.get(name))
    known = {f.name for f in fields(Options)}
    return Options(**{k: v for k, v in values.items() if k in known})


def _safe_name(name: Any) -> str:
    return _shown(name)[1:-1] if isinstance(name, str) else _shown(name)


def _warn(setting: str, exc: Invalid, used: Any, source: str | None) -> None:
    origin = f"from {source}" if source else "the default"
    log.warning("otel-agent: ignoring %s: %s; using %s (%s)", setting, exc, _shown(used), origin)


# -- the standard OTEL_* exporter variables ------------------------------------------------------------------------
# Read here (as every variable is) for `otel_sdk`, which only applies them when otel-agent sets up providers.

SIGNALS = ("traces", "metrics", "logs")
EXPORTER_NAMES = frozenset({"otlp", "console", "none", "file", "otlp_json_file"})
PROTOCOLS = ("http/protobuf", "grpc")
_warned = RateLimitedLog(log)


def _warn_once(key: str, message: str, *args: Any) -> None:
    _warned.warning(key, message, *args)


def signal_exporters(signal: str, environ: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """`OTEL_{SIGNAL}_EXPORTER` as a tuple of known names (`otlp_json_file` read as our `file`), or None when unset.

    An unknown name is dropped with one WARNING line; when no known name is left the caller uses its default."""
    env = os.environ if environ is None else environ
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    raw = env.get(variable, "")
    if not raw.strip():
        return None
    names: list[str] = []
    for part in raw.split(","):
        name = part.strip().lower()
        if not name:
            continue
        if name not in EXPORTER_NAMES:
            _warn_once(
                f"{variable}={raw}",
                "otel-agent: ignoring %s=%r: unknown exporter %r (known: otlp, console, none, otlp_json_file)",
                variable,
                raw,
                name,
            )
            continue
        name = "file" if name == "otlp_json_file" else name
        if name not in names:
            names.append(name)
    if not names:
        return None
    if "none" in names:
        return ("none",)
    return tuple(names)


def otlp_protocol(signal: str, environ: Mapping[str, str] | None = None) -> str:
    """`OTEL_EXPORTER_OTLP_{SIGNAL}_PROTOCOL`, else `OTEL_EXPORTER_OTLP_PROTOCOL`, else `http/protobuf`.

    `grpc` or `http/protobuf`; anything else (`http/json` too, which the Python exporters do not offer) is one
    WARNING line and `http/protobuf`."""
    env = os.environ if environ is None else environ
    for variable in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        raw = env.get(variable, "").strip()
        if not raw:
            continue
        value = raw.lower()
        if value in PROTOCOLS:
            return value
        _warn_once(
            f"{variable}={raw}",
            "otel-agent: ignoring %s=%r: supported protocols are grpc and http/protobuf; using http/protobuf",
            variable,
            raw,
        )
        return "http/protobuf"
    return "http/protobuf"


def otlp_endpoint_set(signal: str, environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT"))


def service_name(options: Options, environ: Mapping[str, str] | None = None, default: str = "otel-agent") -> str:
    """The `service_name` option, else the standard `OTEL_SERVICE_NAME`, else `default`."""
    env = os.environ if environ is None else environ
    return options.service_name or env.get("OTEL_SERVICE_NAME") or default
