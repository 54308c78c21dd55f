"""The two ways a report can fail that are the user's to fix, each with its exit code."""

from __future__ import annotations

EXIT_USER_ERROR = 2
EXIT_NO_RUNS = 3


class ReportError(Exception):
    """A problem with the input or the arguments: shown as one line on stderr, never as a traceback."""

    exit_code = EXIT_USER_ERROR


class NoRunsError(ReportError):
    """The spans were read, but no agent run matched."""

    exit_code = EXIT_NO_RUNS
