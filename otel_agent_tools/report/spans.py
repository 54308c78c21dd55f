"""The neutral span record every loader produces and the run model reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

StatusCode = Literal["unset", "ok", "error"]


@dataclass(frozen=True, slots=True)
class SpanEvent:
    name: str
    time_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SpanRow:
    """One span, whatever it was read from. Attribute values are typed: int, float, bool, str, list or dict."""

    trace_id: str  # lowercase hex
    span_id: str  # lowercase hex
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    status: StatusCode = "unset"
    status_message: str = ""
    service_name: str | None = None

    @property
    def duration_ns(self) -> int:
        return max(self.end_ns - self.start_ns, 0)
