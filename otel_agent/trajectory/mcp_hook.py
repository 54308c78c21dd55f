"""MCP: `ClientSession.call_tool` becomes an `execute_tool` span. The mcp SDK's own spans nest under it."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from .api import ToolCallScope

_TARGET = ("mcp.client.session", "ClientSession", "call_tool")


async def _call_tool(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    name = args[0] if args else kwargs.get("name", "unknown")
    arguments = args[1] if len(args) > 1 else kwargs.get("arguments")
    scope = ToolCallScope(str(name), "mcp", arguments or {})
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as error:
        scope.close(failed=True, error=error)
        raise
    # mcp 2.x names the flag `is_error` (`isError` on the wire and in mcp 1.x)
    failed = bool(getattr(result, "is_error", None) or getattr(result, "isError", None))
    scope.close(failed=failed, result=getattr(result, "content", None))
    return result


def _owner() -> Any:
    module, cls, _ = _TARGET
    return getattr(__import__(module, fromlist=[cls]), cls)


def _is_hooked(owner: Any) -> bool:
    return getattr(getattr(owner, _TARGET[2]), "_self_wrapper", None) is _call_tool


def is_instrumented() -> bool:
    """Whether `ClientSession.call_tool` carries our hook."""
    return _is_hooked(_owner())


def instrument() -> None:
    owner = _owner()
    if not _is_hooked(owner):
        wrap_function_wrapper(owner, _TARGET[2], _call_tool)


def uninstrument() -> None:
    owner = _owner()
    if _is_hooked(owner):
        unwrap(owner, _TARGET[2])
