"""``--since`` / ``--until`` values: a duration back from now (``90s``, ``30m``, ``1h``, ``2d``) or an ISO timestamp."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from .errors import ReportError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_time(text: str, now_ns: int) -> int:
    """Unix nanoseconds for `text`: ``1h`` is an hour before `now_ns`; an ISO time without zone is UTC."""
    match = _DURATION.match(text)
    if match:
        return now_ns - int(float(match.group(1)) * _UNIT_S[match.group(2)] * 1_000_000_000)
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ReportError(f"cannot read the time {text!r}: use e.g. 30m, 1h, 2d or 2025-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000
