"""Agent runs rebuilt from spans.

A run is an ``invoke_agent`` span (``gen_ai.operation.name == "invoke_agent"``) with the ``chat`` (and
``text_completion``) spans (its turns) and ``execute_tool`` spans below it; a nested ``invoke_agent`` span is a run
of its own and keeps its subtree. Turns that carry ``otel_agent.run.id`` but sit in another trace join the run with
that id, and turns whose run span was never seen make an inferred run of their own.

Run totals come from the roll-up attributes on the run span (``otel_agent.run.*``) where present, each one on its
own, and are recomputed from the turns where absent. Both versions of the GenAI conventions are read.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from otel_agent.telemetry import names as n

from .attributes import INFERENCE_OPERATIONS, as_float, genai_attr, operation_of
from .run_types import EscalationInfo, Run, RunFilter, RunTotals, ToolCallInfo, Turn
from .spans import SpanRow
from .totals import totals_for_run
from .turns import attach_tools, tool_from_span, turns_from_spans

__all__ = ["EscalationInfo", "Run", "RunFilter", "RunTotals", "ToolCallInfo", "Turn", "build_runs"]


def _outcome(attributes: dict[str, Any], span: SpanRow | None) -> str:
    value = attributes.get(n.RUN_OUTCOME)
    if value is not None:
        return str(value)
    return "failure" if span is not None and span.status == "error" else "unknown"


def _subtree(root: SpanRow, children: dict[tuple[str, str], list[SpanRow]]) -> tuple[list[SpanRow], list[SpanRow]]:
    """The chat and tool spans under `root`, not descending into nested runs."""
    chats: list[SpanRow] = []
    tools: list[SpanRow] = []
    stack = list(children.get((root.trace_id, root.span_id), ()))
    while stack:
        span = stack.pop()
        operation = operation_of(span)
        if operation == n.OPERATION_INVOKE_AGENT:
            continue
        if operation in INFERENCE_OPERATIONS:
            chats.append(span)
        elif operation == n.OPERATION_EXECUTE_TOOL:
            tools.append(span)
        stack.extend(children.get((span.trace_id, span.span_id), ()))
    return chats, tools


def _make_run(run_id: str, root: SpanRow | None, chats: list[SpanRow], tool_spans: list[SpanRow]) -> Run:
    attributes = root.attributes if root is not None else {}
    turns = turns_from_spans(chats)
    tools = [tool_from_span(span) for span in tool_spans]
    attach_tools(turns, tools)
    first = root or min(chats, key=lambda s: s.start_ns)
    agent = genai_attr(attributes, "agent_name") or next(
        (genai_attr(s.attributes, "agent_name") for s in chats if genai_attr(s.attributes, "agent_name")), None
    )
    if agent is None and root is not None and " " in root.name:
        agent = root.name.split(" ", 1)[1]
    start_ns = root.start_ns if root is not None else min(s.start_ns for s in chats)
    end_ns = root.end_ns if root is not None else max(s.end_ns for s in chats)
    currency = attributes.get(n.RUN_COST_CURRENCY) or next((t.currency for t in turns if t.currency), None) or "USD"
    score = as_float(attributes.get(n.RUN_SCORE))
    end_reason = attributes.get(n.RUN_END_REASON)
    return Run(
        run_id=run_id,
        agent=str(agent or "unknown"),
        service=first.service_name,
        trace_id=first.trace_id,
        span_id=root.span_id if root is not None else None,
        start_ns=start_ns,
        end_ns=end_ns,
        outcome=_outcome(attributes, root),
        score=score,
        inferred=root is None or bool(attributes.get(n.RUN_INFERRED)),
        end_reason=str(end_reason) if end_reason is not None else None,
        currency=str(currency),
        turns=turns,
        tools=sorted(tools, key=lambda t: t.start_ns),
        totals=totals_for_run(attributes, turns),
        stagnated=attributes.get(n.RUN_STAGNATED) is True or any(t.stagnating for t in turns),
        missed_escalation=attributes.get(n.RUN_MISSED_ESCALATION) is True,
    )


def build_runs(spans: Iterable[SpanRow], run_filter: RunFilter | None = None) -> list[Run]:
    """Every agent run in `spans` that `run_filter` accepts, oldest first."""
    spans = list(spans)
    children: dict[tuple[str, str], list[SpanRow]] = defaultdict(list)
    for span in spans:
        if span.parent_id is not None:
            children[(span.trace_id, span.parent_id)].append(span)
    roots = [s for s in spans if operation_of(s) == n.OPERATION_INVOKE_AGENT]
    claimed: set[tuple[str, str]] = set()
    grouped: dict[str, tuple[SpanRow | None, list[SpanRow], list[SpanRow]]] = {}
    for root in roots:
        chats, tools = _subtree(root, children)
        run_id = str(root.attributes.get(n.RUN_ID) or root.span_id)
        grouped[run_id] = (root, chats, tools)
        claimed.update((s.trace_id, s.span_id) for s in chats)
    for span in spans:  # turns of a known run in another trace, and turns whose run span is missing
        run_id = span.attributes.get(n.RUN_ID)
        if run_id is None or operation_of(span) not in INFERENCE_OPERATIONS or (span.trace_id, span.span_id) in claimed:
            continue
        root, chats, tools = grouped.setdefault(str(run_id), (None, [], []))
        chats.append(span)
    runs = [
        _make_run(run_id, root, chats, tools)
        for run_id, (root, chats, tools) in grouped.items()
        if root is not None or chats
    ]
    run_filter = run_filter or RunFilter()
    return sorted((run for run in runs if run_filter.accepts(run)), key=lambda r: (r.start_ns, r.run_id))
