"""Defensive readers of SDK models and plain dicts: malformed or missing fields read as None, never raise."""

from __future__ import annotations

from typing import Any


def get(obj: Any, key: str, default: Any = None) -> Any:
    """Read `key` from an SDK model or a plain dict (raw responses, malformed payloads) without raising."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    return None


def as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


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
