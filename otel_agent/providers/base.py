"""What a provider adapter gives the capture layer: routing, request and response extraction, stream accumulation.

Adapters are thin: they read SDK objects (or plain dicts, for raw responses) into the neutral records and know
nothing about spans, metrics, runs or prices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..records import Operation, TurnRequest, TurnResponse


@dataclass(frozen=True, slots=True)
class Route:
    """Which API an SDK request goes to; `None` from `route()` means: not an inference call, pass through."""

    api: str  # chat.completions | responses | embeddings | completions | messages | beta.messages
    operation: Operation


class StreamAccumulator(Protocol):
    def add(self, chunk: Any) -> None: ...

    def result(self) -> TurnResponse: ...


class ProviderAdapter(Protocol):
    provider: str

    def route(self, options: Any) -> Route | None: ...

    def prepare_options(self, options: Any, suppress_native_spans: bool) -> Any: ...

    def request(self, route: Route, client: Any, options: Any, stream: bool) -> TurnRequest: ...

    def response(self, route: Route, parsed: Any) -> TurnResponse: ...

    def accumulator(self, route: Route) -> StreamAccumulator: ...


# -- adapters of SDKs without a Stainless request(): one patched method each (capture/method.py) --------------------
@dataclass(slots=True)
class Started:
    """What an adapter read before the call: the request, whether the result is a stream, and its own state."""

    request: TurnRequest
    stream: bool = False
    state: Any = None
    args: tuple[Any, ...] | None = None  # replacement positional arguments, when the adapter changed the call
    kwargs: dict[str, Any] | None = field(default=None)


class CallAdapter(Protocol):
    provider: str

    def start(self, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Started | None:
        """The request, or None: not an inference call, pass through untouched."""
        ...

    def response(self, started: Started, result: Any) -> TurnResponse:
        """A non-streamed result. It may replace a consumed body in `result` (botocore's `StreamingBody`)."""
        ...

    def accumulator(self, started: Started) -> StreamAccumulator: ...

    def stream_of(self, started: Started, result: Any) -> tuple[Any, Callable[[Any], Any]]:
        """The stream inside `result`, and how to put the proxy back in its place (the result itself by default)."""
        ...


def whole(result: Any) -> tuple[Any, Callable[[Any], Any]]:
    """`stream_of` for SDKs that return the stream itself."""
    return result, lambda proxy: proxy
