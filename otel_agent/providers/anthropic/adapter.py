"""The Anthropic adapter. It also decides about the SDK's own spans: see `prepare_options`."""

from __future__ import annotations

from typing import Any

from ...records import TurnRequest, TurnResponse
from .._read import as_str, get, server_of
from ..base import Route, StreamAccumulator
from ..identity import provider_of
from . import messages
from .content import MessagesRequestContent

_MESSAGES = Route("messages", "chat")
_BETA_MESSAGES = Route("beta.messages", "chat")


class AnthropicAdapter:
    provider = "anthropic"

    def route(self, options: Any) -> Route | None:
        if getattr(options, "method", "").lower() != "post" or getattr(options, "url", None) != "/v1/messages":
            return None
        return _BETA_MESSAGES if _is_beta(options) else _MESSAGES

    def prepare_options(self, options: Any, suppress_native_spans: bool) -> Any:
        """anthropic 2.x starts its own `anthropic.messages.create` CLIENT span when a tracer provider exists. For a
        call otel-agent records, that would be a second span with overlapping token attributes (double counting in
        any backend summing them), so by default we clear the call's span name, which makes the SDK skip its span for
        this call only. `suppress_anthropic_native_spans=False` keeps both (theirs nests under ours)."""
        if not suppress_native_spans or not getattr(options, "span_name", None):
            return options
        return options.model_copy(update={"span_name": None})

    def request(self, route: Route, client: Any, options: Any, stream: bool) -> TurnRequest:
        body = options.json_data if isinstance(options.json_data, dict) else {}
        address, port = server_of(client)
        msgs, system = messages.request_messages(body)
        return TurnRequest(
            provider=provider_of(client, address, self.provider),
            operation="chat",
            model=as_str(body.get("model")),
            server_address=address,
            server_port=port,
            stream=stream or bool(body.get("stream")),
            params=messages.request_params(body),
            system=system,
            messages=msgs,
            tool_names=messages.tool_names(body.get("tools")),
            api=route.api,
            content=MessagesRequestContent(body.get("system"), body.get("messages")),
            previous_response_id=_previous_message_id(body.get("thread")),
        )

    def response(self, route: Route, parsed: Any) -> TurnResponse:
        return messages.response(parsed)

    def accumulator(self, route: Route) -> StreamAccumulator:
        return messages.MessagesStreamAccumulator()


def _previous_message_id(thread: Any) -> str | None:
    """Server-held state (`beta.messages.tool_runner`, threads): `{"type": "continue", "previous_message_id": ...}`
    names the response this request continues; only the new turn's messages are sent."""
    if get(thread, "type") != "continue":
        return None
    return as_str(get(thread, "previous_message_id"))


def _is_beta(options: Any) -> bool:
    """anthropic 2.x marks beta calls in the options' `qualifiers` (not sent); older SDKs sent `?beta=true`."""
    for name in ("qualifiers", "params"):
        value = getattr(options, name, None)
        if isinstance(value, dict) and value.get("beta"):
            return True
    return False
