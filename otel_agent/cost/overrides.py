"""User prices for custom, fine-tuned, private or self-hosted models. They win over genai-prices.

Two sources, same shape, USD per million tokens unless ``currency`` says otherwise:

* a file, YAML (``.yaml``/``.yml``, needs PyYAML) or JSON, named by the ``prices_file`` option or
  ``OTEL_AGENT_PRICES_FILE``;
* a JSON string in ``OTEL_AGENT_PRICES``.

::

    my-finetune:              # exact model name (case-insensitive)
      input: 0.50             # required with output for per-token pricing
      output: 1.50
      cache_read: 0.05        # default: the input price
      cache_write: 0.60       # default: the input price
      reasoning: 1.50         # default: the output price
    "llama-3*":               # a glob (fnmatch: *, ?, [...]), case-insensitive
      provider: openai        # optional: only calls whose gen_ai.provider.name is this
      input: 0
      output: 0
    "qwen*":
      gpu_hour: 1.20          # a self-hosted model priced by GPU time (USD per GPU-hour), see gpu_hour.py

Matching: exact names first, then globs in the order written; entries from ``OTEL_AGENT_PRICES`` come before those
of the file, so the variable wins where both name a model. A bad file or variable raises `PriceOverridesError`
with a one-line message that says where and what; with ``on_error`` (what `CostModel` uses) each problem is handed
to it instead and only what is bad is dropped: a bad entry loses that entry, an unreadable source that source.
A prices file is read only when it is a regular file of at most `MAX_FILE_BYTES` (``/dev/zero`` or a FIFO is
refused, never read).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ..config import PRICES_ENV, prices_from_env
from .rates import TokenRates

_RATE_KEYS = ("input", "output", "cache_read", "cache_write", "reasoning")
_ALL_KEYS = (*_RATE_KEYS, "gpu_hour", "provider", "currency")
_GLOB_CHARS = frozenset("*?[")
MAX_FILE_BYTES = 4 * 1024 * 1024


class PriceOverridesError(ValueError):
    """A prices file or variable that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True)
class PriceOverride:
    pattern: str
    rates: TokenRates | None  # per-token prices; None for an entry that gives only gpu_hour
    gpu_hour: float | None = None  # USD per GPU-hour for a self-hosted model
    provider: str | None = None
    origin: str = ""  # the file or variable it came from

    @property
    def is_glob(self) -> bool:
        return bool(_GLOB_CHARS & set(self.pattern))

    def matches(self, provider: str | None, model: str) -> bool:
        if self.provider is not None and (provider or "").lower() != self.provider.lower():
            return False
        if self.is_glob:
            return fnmatchcase(model.lower(), self.pattern.lower())
        return model.lower() == self.pattern.lower()


@dataclass(slots=True)
class PriceOverrides:
    """An ordered set of user prices with a per-(provider, model) match cache."""

    entries: tuple[PriceOverride, ...] = ()
    _cache: dict[tuple[str | None, str], PriceOverride | None] = field(default_factory=dict, repr=False)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def match(self, provider: str | None, model: str | None) -> PriceOverride | None:
        if not self.entries or not model:
            return None
        key = (provider, model)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = next((e for e in self.entries if not e.is_glob and e.matches(provider, model)), None)
        if found is None:
            found = next((e for e in self.entries if e.is_glob and e.matches(provider, model)), None)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[key] = found
        return found


def load_overrides(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    on_error: Callable[[PriceOverridesError], None] | None = None,
) -> PriceOverrides:
    """Load user prices from `path` (default ``OTEL_AGENT_PRICES_FILE``) and ``OTEL_AGENT_PRICES``.

    Returns an empty `PriceOverrides` when neither is set. Raises `PriceOverridesError` on a bad source, unless
    `on_error` is given: then each problem goes to it and the rest of the prices are kept.
    """
    entries: list[PriceOverride] = []
    variable, file_from_env = prices_from_env(environ)
    file = path if path is not None else file_from_env
    sources: list[tuple[str, Callable[[], Any]]] = []
    if variable:
        sources.append((PRICES_ENV, lambda: _parse_json(variable, PRICES_ENV)))
    if file is not None:
        sources.append((str(file), lambda: _read_file(Path(file))))
    for origin, read in sources:
        try:
            data = read()
        except PriceOverridesError as exc:
            if on_error is None:
                raise
            on_error(exc)
            continue
        entries.extend(parse_overrides(data, origin, on_error=on_error))
    return PriceOverrides(tuple(entries))


def parse_overrides(
    data: Any, origin: str, *, on_error: Callable[[PriceOverridesError], None] | None = None
) -> list[PriceOverride]:
    """Validate already-decoded prices (a mapping of model name or glob to its prices).

    Raises on the first bad entry, unless `on_error` is given: then each bad entry goes to it and is dropped.
    """
    if not isinstance(data, Mapping):
        error = PriceOverridesError(f"{origin}: expected a mapping of model name to prices, got {type(data).__name__}")
        if on_error is None:
            raise error
        on_error(error)
        return []
    parsed: list[PriceOverride] = []
    for pattern, spec in data.items():
        try:
            parsed.append(_parse_entry(str(pattern), spec, origin))
        except PriceOverridesError as exc:
            if on_error is None:
                raise
            on_error(exc)
    return parsed


def _parse_entry(pattern: str, spec: Any, origin: str) -> PriceOverride:
    where = f"{origin}: model {pattern!r}"
    if not pattern.strip():
        raise PriceOverridesError(f"{origin}: empty model name")
    if not isinstance(spec, Mapping):
        raise PriceOverridesError(f"{where}: expected a mapping of prices, got {type(spec).__name__}")
    unknown = sorted(set(map(str, spec)) - set(_ALL_KEYS))
    if unknown:
        raise PriceOverridesError(f"{where}: unknown key {unknown[0]!r} (expected one of {', '.join(_ALL_KEYS)})")
    numbers = {key: _price(spec[key], where, key) for key in (*_RATE_KEYS, "gpu_hour") if spec.get(key) is not None}
    has_rates = "input" in numbers or "output" in numbers
    if has_rates and not ("input" in numbers and "output" in numbers):
        missing = "output" if "input" in numbers else "input"
        raise PriceOverridesError(f"{where}: {missing!r} is required with per-token prices")
    if not has_rates and "gpu_hour" not in numbers:
        raise PriceOverridesError(f"{where}: give 'input' and 'output' (per million tokens) or 'gpu_hour'")
    if not has_rates and set(numbers) - {"gpu_hour"}:
        raise PriceOverridesError(f"{where}: 'input' and 'output' are required with per-token prices")
    currency = _text(spec.get("currency", "USD"), where, "currency")
    provider = _text(spec["provider"], where, "provider") if spec.get("provider") is not None else None
    rates = (
        TokenRates(
            input=numbers["input"],
            output=numbers["output"],
            cache_read=numbers.get("cache_read"),
            cache_write=numbers.get("cache_write"),
            reasoning=numbers.get("reasoning"),
            currency=currency,
        )
        if has_rates
        else None
    )
    return PriceOverride(
        pattern=pattern.strip(), rates=rates, gpu_hour=numbers.get("gpu_hour"), provider=provider, origin=origin
    )


def _price(value: Any, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PriceOverridesError(f"{where}: {key!r} must be a number, got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise PriceOverridesError(f"{where}: {key!r} must be a finite non-negative number, got {value!r}")
    return float(value)


def _text(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PriceOverridesError(f"{where}: {key!r} must be a non-empty string, got {value!r}")
    return value.strip()


def _parse_json(text: str, origin: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PriceOverridesError(
            f"{origin}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise PriceOverridesError(f"{origin}: not valid JSON (nested too deeply)") from None


def _read_file(path: Path) -> Any:
    text = _read_bounded(path)
    if path.suffix.lower() not in {".yaml", ".yml"}:
        return _parse_json(text, str(path))
    try:
        import yaml
    except ImportError:
        raise PriceOverridesError(
            f"{path}: reading YAML needs PyYAML (pip install pyyaml), or write the prices as JSON"
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise PriceOverridesError(f"{path}: not valid YAML ({problem}{at})") from None
    except RecursionError:
        raise PriceOverridesError(f"{path}: not valid YAML (nested too deeply)") from None


def _read_bounded(path: Path) -> str:
    """The file's text, read only when it is a regular file of at most `MAX_FILE_BYTES` (never blocks on a FIFO,
    never reads a device such as ``/dev/zero``)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise PriceOverridesError(f"{path}: not a regular file; prices are read from a YAML or JSON file")
        if info.st_size > MAX_FILE_BYTES:
            raise PriceOverridesError(f"{path}: prices file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise PriceOverridesError(f"{path}: cannot read prices file ({exc.strerror or exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise PriceOverridesError(f"{path}: prices file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PriceOverridesError(f"{path}: prices file is not UTF-8 text") from None
