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
with a one-line message that says where and what.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .rates import TokenRates

PRICES_FILE_ENV = "OTEL_AGENT_PRICES_FILE"
PRICES_ENV = "OTEL_AGENT_PRICES"
_RATE_KEYS = ("input", "output", "cache_read", "cache_write", "reasoning")
_ALL_KEYS = (*_RATE_KEYS, "gpu_hour", "provider", "currency")
_GLOB_CHARS = frozenset("*?[")


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
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> PriceOverrides:
    """Load user prices from `path` (default ``OTEL_AGENT_PRICES_FILE``) and ``OTEL_AGENT_PRICES``.

    Returns an empty `PriceOverrides` when neither is set. Raises `PriceOverridesError` on a bad source.
    """
    env = os.environ if environ is None else environ
    entries: list[PriceOverride] = []
    variable = env.get(PRICES_ENV, "").strip()
    if variable:
        entries.extend(parse_overrides(_parse_json(variable, PRICES_ENV), PRICES_ENV))
    file = path if path is not None else (env.get(PRICES_FILE_ENV, "").strip() or None)
    if file is not None:
        entries.extend(parse_overrides(_read_file(Path(file)), str(file)))
    return PriceOverrides(tuple(entries))


def parse_overrides(data: Any, origin: str) -> list[PriceOverride]:
    """Validate already-decoded prices (a mapping of model name or glob to its prices)."""
    if not isinstance(data, Mapping):
        raise PriceOverridesError(f"{origin}: expected a mapping of model name to prices, got {type(data).__name__}")
    return [_parse_entry(str(pattern), spec, origin) for pattern, spec in data.items()]


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


def _read_file(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PriceOverridesError(f"{path}: cannot read prices file ({exc.strerror or exc})") from None
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
