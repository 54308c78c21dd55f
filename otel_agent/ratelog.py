"""Rate-limited logging: the one helper for log lines that input can repeat (a new model name per call, a failing
sample every tick). Each *reason* (a short, fixed key, never the input itself) gets its first line in full, then
at most one line per `interval_s` that says how many more occurred and shows the latest.

Reasons are a closed set chosen by the caller; at most `MAX_REASONS` are tracked (more are counted under one).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_REASONS = 256
_OVERFLOW = "(other reasons)"


@dataclass(slots=True)
class _Seen:
    last_emit: float
    suppressed: int = 0


class RateLimitedLog:
    def __init__(
        self,
        logger: logging.Logger,
        *,
        interval_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, _Seen] = {}

    def log(self, level: int, reason: str, message: str, *args: object, exc_info: bool = False) -> None:
        """Log `message % args` for `reason` now if it is the first of its reason or the interval has passed
        (with the count of those held back since), else count it."""
        if not self._logger.isEnabledFor(level):
            return
        now = self._clock()
        with self._lock:
            seen = self._seen.get(reason)
            if seen is None and len(self._seen) >= MAX_REASONS:
                reason = _OVERFLOW
                seen = self._seen.get(reason)
            if seen is None:
                self._seen[reason] = _Seen(now)
                held = -1
            elif now - seen.last_emit >= self._interval:
                held, seen.suppressed, seen.last_emit = seen.suppressed, 0, now
            else:
                seen.suppressed += 1
                return
        if held > 0:
            message = f"{message} ({held} more like this since the last report, not shown)"
        self._logger.log(level, message, *args, exc_info=exc_info)

    def warning(self, reason: str, message: str, *args: object) -> None:
        self.log(logging.WARNING, reason, message, *args)

    def debug(self, reason: str, message: str, *args: object, exc_info: bool = False) -> None:
        self.log(logging.DEBUG, reason, message, *args, exc_info=exc_info)

    def flush_counts(self) -> None:
        """One line per reason with held-back occurrences (at shutdown, so counts are not lost)."""
        with self._lock:
            pending = [(r, s.suppressed) for r, s in self._seen.items() if s.suppressed]
            for reason, _ in pending:
                self._seen[reason].suppressed = 0
        for reason, count in pending:
            self._logger.log(
                logging.WARNING if self._logger.isEnabledFor(logging.WARNING) else logging.DEBUG,
                "otel-agent: %d more '%s' lines were held back since the last report",
                count,
                reason,
            )
