"""The CLI's user error, in a module of its own: `python -m otel_agent_tools.cli.main` runs main.py as ``__main__``,
and a class defined there would be a second, different class from the one the sub-commands import."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2 (or `code`)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code
