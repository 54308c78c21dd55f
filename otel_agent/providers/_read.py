"""Defensive readers of SDK models and plain dicts: malformed or missing fields read as None, never raise."""

from __future__ import annotations

from typing import Any, Final

from ..values import MAX_COUNT, as_float, as_int

__all__ = ["MAX_COST", "MAX_COUNT", "as_cost", "as_float", "as_int", "as_int64", "as_str", "get", "server_of"]

MAX_COST: Final = 1e9  # a reported cost of one call above this is not a cost


def get(obj: Any, key: str, default: Any = None) -> Any:
    """Read `key` from an SDK model or a plain dict (raw responses, malformed payloads) without raising."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def as_int64(value: Any) -> int | None:
    """A signed integer that fits an OTLP int attribute (a seed); else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**63) <= value < 2**63 else None


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
