"""The one set of value helpers: numeric readers, canonical JSON, ratios. Base layer: imports nothing of ours.

Two reading rules, one function each:
- strict (the default), for SDK payloads: a count is a non-negative int up to `MAX_COUNT` (or an integral float);
  a float is finite; bools, strings, negatives, NaN and infinities read as None;
- lenient, for telemetry read back (exported attributes may arrive as strings): anything `int()`/`float()` takes.
"""

from __future__ import annotations

import json
import math
from typing import Any, Final

# The largest count we read. A token count above it is not a count (a provider bug, a fuzzed payload, `1e308` read
# as an integer) and reads as missing: an int64 overflow in one data point would make every later OTLP metric export
# fail, and counters summed in process stay far below int64 even after millions of such calls.
MAX_COUNT: Final = 2**40  # ~1.1e12 tokens in one call


def as_int(value: Any, *, lenient: bool = False) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if lenient:
        try:
            return int(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value)
    return None


def as_float(value: Any, *, lenient: bool = False) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if lenient:
        try:
            return float(value)
        except (TypeError, ValueError, OverflowError):
            return None
    if not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def canonical_json(value: Any) -> str | None:
    """Canonical JSON text (sorted keys, no spaces) of a value or of JSON text, so equal arguments compare equal.

    Empty text reads as `{}` (a call without arguments); text that does not parse, or a value that cannot be
    serialised, gives None (callers keep the original).
    """
    if isinstance(value, str):
        if not value.strip():
            return "{}"
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
            return None
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError, RecursionError):
        return None


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None
