"""Message-content capture: off by default, opt-in, capped, and never carrying secrets."""

from __future__ import annotations

import enum
import json
import os
import re
from typing import Any

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


# Secrets that could sit inside captured text: API keys and bearer tokens are masked before anything is recorded.
_SECRET_PATTERNS = re.compile(
    r"(sk-(?:ant-)?[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,}|AKIA[0-9A-Z]{16}|xox[baprs]-[A-Za-z0-9\-]{8,})"
)


def redact(text: str) -> str:
    return _SECRET_PATTERNS.sub("[REDACTED]", text)


def to_json(value: Any, max_chars: int) -> str:
    """Serialise captured content as JSON, secrets masked, cut at `max_chars` (marked as cut)."""
    try:
        text = json.dumps(value, default=_plain, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(str(value))
    text = redact(text)
    if len(text) > max_chars:
        return text[: max(max_chars - 14, 0)] + "...[truncated]"
    return text


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_none=True)
    return str(value)
