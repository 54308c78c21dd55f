"""`otel-agent`: demo, report, check and stack sub-commands.

Exit codes: 0 success; 1 an unexpected failure; 2 a user error (bad arguments, missing file, unreachable endpoint);
3 no data found. User errors print one line, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

_SUBCOMMANDS = ("demo", "report", "check", "stack")


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit code 2 (or `code`)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="otel-agent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _SUBCOMMANDS:
        try:
            module = importlib.import_module(f"otel_agent_tools.cli.{name}")
        except ImportError as exc:  # a sub-command whose optional dependencies are missing
            stub = sub.add_parser(name, help=f"(unavailable: {exc})")
            stub.set_defaults(handler=lambda _args, exc=exc: _unavailable(exc))
            continue
        module.add_parser(sub)
    return parser


def _unavailable(exc: Exception) -> int:
    raise UserError(f"this command is unavailable here: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler = getattr(args, "handler", None) or args.func
        result = handler(args)
    except UserError as exc:
        print(f"otel-agent: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        print("otel-agent: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
