"""Our code never breaks the host: failures inside otel-agent are caught and logged once, at debug level."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .ratelog import RateLimitedLog

log = logging.getLogger("otel_agent")
_T = TypeVar("_T")
_errors = RateLimitedLog(log)


def report_internal_error(where: str) -> None:
    """Log an internal failure once per place (with its traceback), then a periodic count; never raise."""
    _errors.debug(
        where, "otel-agent: internal error in %s; telemetry for this call may be incomplete", where, exc_info=True
    )


def guarded(func: Callable[..., _T], *args: Any) -> _T | None:
    """Call `func`; on any Exception of ours, log once and return None."""
    try:
        return func(*args)
    except Exception:
        report_internal_error(getattr(func, "__qualname__", repr(func)))
        return None
