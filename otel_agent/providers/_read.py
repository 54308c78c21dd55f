"""Defensive readers of SDK models and plain dicts: malformed or missing fields read as None, never raise.

Each payload field is read on its own through these, so one malformed field (a bool where a list was expected, a
number where text was, tool arguments nested past the recursion limit) loses that field only, never the record.
"""

from __future__ import annotations

import json
from typing import Any, Final

from ..values import MAX_COUNT, as_float, as_int

__all__ = [
    "MAX_COST",
    "MAX_COUNT",
    "as_arguments",
    "as_cost",
    "as_float",
    "as_index",
    "as_int",
    "as_int64",
    "as_list",
    "as_str",
    "get",
    "server_of",
]

MAX_COST: Final = 1e9  # a reported cost of one call above this is not a cost


def get(obj: Any, key: str, default: Any = None) -> Any:
    """Read `key` from an SDK model or a plain dict (raw responses, malformed payloads) without raising."""
    if obj is None or isinstance(obj, _PLAIN):  # a str's `index`, a list's `count`: methods, not fields
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    try:
        return getattr(obj, key, default)
    except Exception:  # a property of a half-built SDK model that raises
        return default


_PLAIN = (str, bytes, bytearray, int, float, bool, list, tuple, set, frozenset)


def as_list(value: Any) -> tuple[Any, ...]:
    """The items of a list field; anything else (a bool, a float, a mapping, text) reads as no items."""
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return ()


def as_index(value: Any) -> int:
    """A list position (a choice's or a tool call's `index`); anything malformed reads as 0."""
    index = as_int(value)
    return index if index is not None and index < 1_000_000 else 0


def as_arguments(value: Any) -> str:
    """Tool-call arguments as JSON text: the text as sent, else the value serialised; "" when it cannot be."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return ""


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
