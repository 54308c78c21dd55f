"""The conventions' `gen_ai.client.inference.operation.details` event, through the OpenTelemetry logs API.

Emitted once per inference call when content capture says `EVENT_ONLY` or `SPAN_AND_EVENT`: the call's `gen_ai.*`,
`server.*` and `error.type` attributes, and the input messages, output messages and system instructions as
structured values (the same schema, redaction and size cap as the span attributes), in the call span's context.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span

from ..records import TurnRecord
from . import names as n
from .content import capped_messages, capped_parts, content_failed

EVENT_NAME = "gen_ai.client.inference.operation.details"
_KEPT_PREFIXES = ("gen_ai.", "server.")


class InferenceDetailsEvents:
    def __init__(self, logger: Any, genai: n.GenAINames, max_chars: int) -> None:
        self._logger = logger
        self._g = genai
        self._max_chars = max_chars

    def emit(self, span: Span, record: TurnRecord) -> None:
        try:
            self._emit(span, record)
        except Exception:
            content_failed("InferenceDetailsEvents.emit")

    def _emit(self, span: Span, record: TurnRecord) -> None:
        from opentelemetry._logs import LogRecord, SeverityNumber

        g = self._g
        content_keys = {g.input_messages, g.output_messages, g.system_instructions}
        attributes: dict[str, Any] = {
            key: value
            for key, value in (getattr(span, "attributes", None) or {}).items()
            if (key.startswith(_KEPT_PREFIXES) or key == n.ERROR_TYPE) and key not in content_keys
        }
        source = record.request.content
        if source is not None:
            messages = source.messages()
            if messages:
                attributes[g.input_messages] = capped_messages(messages, self._max_chars)
            system = source.system_instructions()
            if system:
                attributes[g.system_instructions] = capped_parts(system, self._max_chars)
        output = record.response.content if record.response is not None else None
        if output is not None:
            attributes[g.output_messages] = capped_messages(output.messages(), self._max_chars)
        self._logger.emit(
            LogRecord(
                timestamp=record.end_ns,
                context=trace.set_span_in_context(span),
                severity_number=SeverityNumber.INFO,
                attributes=attributes,
                event_name=EVENT_NAME,
            )
        )
