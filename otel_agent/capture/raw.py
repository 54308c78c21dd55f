"""Proxies for raw responses whose body is read later (``with_streaming_response``, raw streams).

The SDK's response object passes through; what ends the call is hooked:

* ``parse()`` (the SDK's result: a body, or a stream that from then on decides when the call ends);
* ``read()`` / ``text()`` / ``json()`` (the body, read whole) and ``iter_bytes()`` / ``iter_text()`` /
  ``iter_lines()`` read to the end (the body, or a stream's server-sent events, seen as they pass);
* ``close()`` and garbage collection, for a call whose result was never read. Once ``parse()`` has handed out a
  stream, dropping the raw object (LiteLLM keeps only the parsed stream) no longer ends anything: the stream does.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import wrapt


class ParsedHandler(Protocol):
    def parsed(self, value: Any) -> Any: ...

    def body_read(self, raw: Any) -> None: ...

    def pieces_read(self, pieces: list[Any]) -> None: ...

    def abandoned(self) -> None: ...

    def collected(self) -> None: ...


def _collect(handler: ParsedHandler) -> None:
    handler.collected()


class _RawProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg]
    def __init__(self, response: Any, handler: ParsedHandler) -> None:
        super().__init__(response)
        self._self_handler = handler
        self._self_finalizer = weakref.finalize(self, _collect, handler)


class SyncRawResponseProxy(_RawProxyBase):
    def parse(self, *args: Any, **kwargs: Any) -> Any:
        value = self.__wrapped__.parse(*args, **kwargs)
        return self._self_handler.parsed(value) if not args and not kwargs else value

    def read(self) -> Any:
        value = self.__wrapped__.read()
        self._self_handler.body_read(self.__wrapped__)
        return value

    def text(self) -> Any:
        value = self.__wrapped__.text()
        self._self_handler.body_read(self.__wrapped__)
        return value

    def json(self) -> Any:
        value = self.__wrapped__.json()
        self._self_handler.body_read(self.__wrapped__)
        return value

    def iter_bytes(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return self._seen(self.__wrapped__.iter_bytes(*args, **kwargs))

    def iter_text(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return self._seen(self.__wrapped__.iter_text(*args, **kwargs))

    def iter_lines(self) -> Iterator[Any]:
        return self._seen(self.__wrapped__.iter_lines(), lines=True)

    def _seen(self, pieces: Iterator[Any], lines: bool = False) -> Iterator[Any]:
        kept: list[Any] = []
        for piece in pieces:
            kept.append(f"{piece}\n" if lines else piece)
            yield piece
        self._self_handler.pieces_read(kept)

    def close(self) -> Any:
        try:
            return self.__wrapped__.close()
        finally:
            self._self_handler.abandoned()


class AsyncRawResponseProxy(_RawProxyBase):
    async def parse(self, *args: Any, **kwargs: Any) -> Any:
        value = await self.__wrapped__.parse(*args, **kwargs)
        return self._self_handler.parsed(value) if not args and not kwargs else value

    async def read(self) -> Any:
        value = await self.__wrapped__.read()
        self._self_handler.body_read(self.__wrapped__)
        return value

    async def text(self) -> Any:
        value = await self.__wrapped__.text()
        self._self_handler.body_read(self.__wrapped__)
        return value

    async def json(self) -> Any:
        value = await self.__wrapped__.json()
        self._self_handler.body_read(self.__wrapped__)
        return value

    def iter_bytes(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._seen(self.__wrapped__.iter_bytes(*args, **kwargs))

    def iter_text(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._seen(self.__wrapped__.iter_text(*args, **kwargs))

    def iter_lines(self) -> AsyncIterator[Any]:
        return self._seen(self.__wrapped__.iter_lines(), lines=True)

    async def _seen(self, pieces: AsyncIterator[Any], lines: bool = False) -> AsyncIterator[Any]:
        kept: list[Any] = []
        async for piece in pieces:
            kept.append(f"{piece}\n" if lines else piece)
            yield piece
        self._self_handler.pieces_read(kept)

    async def close(self) -> Any:
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_handler.abandoned()
