"""Message-content capture: off by default, opt-in, capped, and never carrying secrets."""

from __future__ import annotations

import json
from typing import Any

from ..config import ContentMode, parse_content_mode
from ..redaction import redact

__all__ = ["ContentMode", "parse_content_mode", "redact", "to_json"]


def to_json(value: Any, max_chars: int) -> str:
    """Serialise captured content as JSON, secrets masked, cut at `max_chars` (marked as cut)."""
    try:
        text = json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):  # RecursionError: content nested deeper than json can go
        text = json.dumps(_safe_str(value))
    text = redact(text)
    if len(text) > max_chars:
        return text[: max(max_chars - 14, 0)] + "...[truncated]"
    return text


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            # warnings=False: a model the SDK built without validation (a malformed payload) would otherwise emit
            # pydantic's serialization UserWarnings into the host
            return dump(mode="json", exclude_none=True, warnings=False)
        except TypeError:  # a model_dump that is not pydantic's: its text is enough
            return _safe_str(value)
    return _safe_str(value)


def _safe_str(value: Any) -> str:
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"
