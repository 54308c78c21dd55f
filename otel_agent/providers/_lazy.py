"""A `ContentSource` from two functions, called only when content capture is on (never on the hot path)."""

from __future__ import annotations

from collections.abc import Callable

from ..records import ChatMessage, Part


class LazyContent:
    __slots__ = ("_messages", "_system")

    def __init__(
        self, messages: Callable[[], tuple[ChatMessage, ...]], system: Callable[[], tuple[Part, ...]] | None = None
    ) -> None:
        self._messages = messages
        self._system = system

    def system_instructions(self) -> tuple[Part, ...]:
        return self._system() if self._system is not None else ()

    def messages(self) -> tuple[ChatMessage, ...]:
        return self._messages()
