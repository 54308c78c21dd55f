"""Defensive readers of SDK models and plain dicts: malformed or missing fields read as None, never raise."""

from __future__ import annotations

import math
from typing import Any, Final

# The largest count we read. A token count above it is not a count (a provider bug, a fuzzed payload, `1e308` read
# as an integer) and reads as missing: an int64 overflow in one data point would make every later OTLP metric export
# fail, and counters summed in process stay far below int64 even after millions of such calls.
MAX_COUNT: Final = 2**40  # ~1.1e12 tokens in one call
MAX_COST: Final = 1e9  # a reported cost of one call above this is not a cost


def get(obj: Any, key: str, default: Any = None) -> Any:
    """Read `key` from an SDK model or a plain dict (raw responses, malformed payloads) without raising."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def as_int(value: Any) -> int | None:
    """A count: a non-negative integer up to `MAX_COUNT` (an integral float too); anything else reads as None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_COUNT else None
    if isinstance(value, float) and value.is_integer() and 0 <= value <= MAX_COUNT:
        return int(value)
    return None


def as_int64(value: Any) -> int | None:
    """A signed integer that fits an OTLP int attribute (a seed); else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**63) <= value < 2**63 else None


def as_float(value: Any) -> float | None:
    """A finite number (NaN and infinities read as None)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def as_cost(value: Any) -> float | None:
    """A cost the provider reported: a finite non-negative number up to `MAX_COST`, also from a numeric string
    (a response header); else None."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    number = as_float(value)
    return number if number is not None and 0 <= number <= MAX_COST else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def server_of(client: Any) -> tuple[str | None, int | None]:
    """`server.address` and `server.port` from the client's base URL (never its credentials)."""
    url = getattr(client, "base_url", None)
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return None, None
    port = getattr(url, "port", None)
    if not isinstance(port, int):
        scheme = getattr(url, "scheme", "https")
        port = 443 if scheme == "https" else 80
    return host, port
