"""`otel-agent`: demo, report, check and stack sub-commands.

exit codes:
  0  success
  1  an unexpected failure
  2  a user error: bad arguments, a missing file, an unreachable endpoint (one line, never a traceback)
  3  no data found (report: the spans were read but no agent run matched)
  4  check: something checked is not fine
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import UserError

__all__ = ["UserError", "build_parser", "main"]

_SUBCOMMANDS = ("demo", "report", "check", "stack")


def build_parser() -> argparse.ArgumentParser:
    from otel_agent._version import VERSION

    parser = argparse.ArgumentParser(
        prog="otel-agent", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
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
        sub.choices[name].set_defaults(_subparser=sub.choices[name])
    return parser


def _unavailable(exc: Exception) -> int:
    raise UserError(f"this command is unavailable here: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # the sub-command's usage, not the top-level one: `report --bogus` shows report's options
        getattr(args, "_subparser", parser).error(f"unrecognized arguments: {' '.join(unknown)}")
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
    # `python -m otel_agent_tools.cli.main`: run the imported module's main, so the sub-commands' UserError (raised
    # from otel_agent_tools.cli.main, not __main__) is the class caught there
    from otel_agent_tools.cli.main import main as _imported_main

    sys.exit(_imported_main())
