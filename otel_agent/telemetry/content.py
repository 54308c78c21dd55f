"""Message-content capture: off by default, opt-in, capped, and never carrying secrets."""

from __future__ import annotations

import enum
import json
import os
from typing import Any

from ..redaction import redact

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


def content_mode_from_env() -> ContentMode:
    try:
        return parse_content_mode(os.environ.get(CAPTURE_ENV, ""))
    except ValueError:
        return ContentMode.NO_CONTENT


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
