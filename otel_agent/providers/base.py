"""What a provider adapter gives the capture layer: routing, request and response extraction, stream accumulation.

Adapters are thin: they read SDK objects (or plain dicts, for raw responses) into the neutral records and know
nothing about spans, metrics, runs or prices.
"""

from __future__ import annotations

from dataclasses import dataclass
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
