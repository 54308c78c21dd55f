"""Proxies for raw responses whose body is read later (``with_streaming_response``, raw streams).

The SDK's response object passes through; only ``parse()`` (to see the result) and ``close()`` / garbage collection
(to end a call whose result was never parsed) are hooked.
"""

from __future__ import annotations

import weakref
from typing import Any, Protocol

import wrapt


class ParsedHandler(Protocol):
    def parsed(self, value: Any) -> Any: ...

    def abandoned(self) -> None: ...


def _abandon(handler: ParsedHandler) -> None:
    handler.abandoned()


class _RawProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, response: Any, handler: ParsedHandler) -> None:
        super().__init__(response)
        self._self_handler = handler
        self._self_finalizer = weakref.finalize(self, _abandon, handler)


class SyncRawResponseProxy(_RawProxyBase):
    def parse(self, *args: Any, **kwargs: Any) -> Any:
        value = self.__wrapped__.parse(*args, **kwargs)
        return self._self_handler.parsed(value) if not args and not kwargs else value

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_handler.abandoned()


class AsyncRawResponseProxy(_RawProxyBase):
    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        value = await self.__wrapped__.parse(*args, **kwargs)
        return self._self_handler.parsed(value) if not args and not kwargs else value

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_handler.abandoned()
