"""Generate the otel-agent Grafana dashboards with grafana-foundation-sdk.

    python dashboards/generate.py            # writes dashboards/json/*.json
    python dashboards/generate.py --check    # exit 1 when the committed JSON differs from what this file generates

The JSON under dashboards/json/ is generated: edit this file, run it, commit both. tests/dashboards/ checks that the
committed JSON equals this output, that every metric and label a query uses is documented (docs/attributes.md) and
emitted (otel_agent/telemetry/names.py), and, against the real stack, that every query returns data.

Queries use the Prometheus names of the collector's translation (`.` -> `_`, `_total` on counters, units appended,
`service_name` from resource_to_telemetry_conversion). Conventions used throughout:

* `$datasource` (Prometheus) and `$traces` (Jaeger) are datasource variables; `$service`, `$agent` and `$model` are
  multi-value regex variables (`All` = `.*`, which also matches series without the label).
* Time-series panels use `rate(...[$__rate_interval])`. Totals over the dashboard range use `in_range(...)`: the
  counter's `increase` over `$__range` for series that existed when the range began, and the current value of series
  that first appeared inside it (`increase` cannot see the first sample of a new series, and short-lived agent
  processes create new series all the time).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, common, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common as cm
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as pm

HERE = Path(__file__).resolve().parent
JSON_DIR = HERE / "json"

# Provisioned datasource uids (dashboards/provisioning/datasources/otel-agent.yaml). Panels never name them: they
# reference the datasource variables, whose default (`current`) is the provisioned datasource.
PROMETHEUS_UID = "otel-agent-prometheus"
JAEGER_UID = "otel-agent-jaeger"
PROM = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
JAEGER = dm.DataSourceRef(type_val="jaeger", uid="${traces}")

# Units (Grafana unit ids; `suffix:` units print the suffix after the value).
USD = "currencyUSD"
SECONDS = "s"
TOKENS = "suffix: tokens"
TOKENS_PER_S = "suffix: tokens/s"
TURNS = "suffix: turns"
PER_MIN = "suffix: /min"
RUNS = "suffix: runs"
SHARE = "percentunit"
GIB_S = "suffix: GiB·s"
GIB = "gbytes"
BYTES = "bytes"
COUNT = "short"
MICROSECONDS = "µs"

# Label matchers (Prometheus label names of the attributes in docs/attributes.md).
SERVICE = 'service_name=~"$service"'
AGENT = 'gen_ai_agent_name=~"$agent"'
MODEL = 'gen_ai_request_model=~"$model"'
WASTED = 'otel_agent_turn_wasted="true"'
UP = 'otel_agent_escalation_direction="up"'
DOWN = 'otel_agent_escalation_direction="down"'
TO_MODEL = 'otel_agent_escalation_to_model=~"$model"'
SUCCESS = 'otel_agent_run_outcome="success"'
STAGNATED = 'otel_agent_run_stagnated="true"'
MISSED = 'otel_agent_run_missed_escalation="true"'
TOOL_ERROR = 'otel_agent_tool_is_error="true"'


def sel(metric: str, *matchers: str) -> str:
    return f"{metric}{{{', '.join(matchers)}}}"


def in_range(selector: str) -> str:
    """Increase of a counter over the dashboard range, counting series that first appeared inside the range.

    `selector unless selector offset $__range` is the current value of series that did not exist at the start of the
    range (their whole value accrued inside it); `or` adds `increase` for every other series.
    """
    return f"(({selector} unless {selector} offset $__range) or increase({selector}[$__range]))"


def rate(selector: str, window: str = "$__rate_interval") -> str:
    return f"rate({selector}[{window}])"


def by(labels: str, expr: str, op: str = "sum") -> str:
    return f"{op} by ({labels}) ({expr})"


# ---------------------------------------------------------------------------------------------------------------------
# Pieces the SDK does not model (Grafana 10 JSON fields), kept small and explicit.


class JaegerQuery(cogvariants.Dataquery):
    """A Grafana Jaeger datasource query (`queryType: search`): a table of traces matching service + tags."""

    def __init__(self, ref_id: str, service: str, tags: str, limit: int = 20, operation: str = "") -> None:
        self.ref_id, self.service, self.tags, self.limit, self.operation = ref_id, service, tags, limit, operation

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "datasource": JAEGER,
            "queryType": "search",
            "refId": self.ref_id,
            "service": self.service,
            "tags": self.tags,
            "limit": self.limit,
        }
        if self.operation:
            payload["operation"] = self.operation
        return payload


class _Built:
    """Wraps a ready model object as a builder (what the SDK's `with_target` expects)."""

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def build(self) -> Any:
        return self._obj


class PrometheusAnnotation(dm.AnnotationQuery):
    """AnnotationQuery plus the Prometheus annotation fields Grafana reads (step, titleFormat, textFormat, tagKeys)."""

    def __init__(self, *, step: str, title_format: str, text_format: str, tag_keys: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step, self.title_format, self.text_format, self.tag_keys = step, title_format, text_format, tag_keys

    def to_json(self) -> dict[str, object]:
        payload = super().to_json()
        payload.update(
            step=self.step,
            titleFormat=self.title_format,
            textFormat=self.text_format,
            tagKeys=self.tag_keys,
            useValueForTime=False,
        )
        return payload


def builtin_annotation() -> _Built:
    return _Built(
        dm.AnnotationQuery(
            name="Annotations & Alerts",
            datasource=dm.DataSourceRef(type_val="grafana", uid="-- Grafana --"),
            enable=True,
            hide=True,
            icon_color="rgba(0, 211, 255, 1)",
            type_val="dashboard",
            target=dm.AnnotationTarget(limit=100, match_any=False, tags=[], type_val="dashboard"),
        )
    )


# ---------------------------------------------------------------------------------------------------------------------
# Panels: a small declarative layer, so each dashboard below reads as a list of queries.


@dataclass
class Q:
    expr: str
    legend: str = ""
    instant: bool = False
    exemplar: bool = False
    table: bool = False


@dataclass
class P:
    kind: str  # stat | timeseries | bars | bargauge | table | traces
    title: str
    description: str
    unit: str
    queries: list[Q] = field(default_factory=list)
    w: int = 12
    h: int = 8
    traces: JaegerQuery | None = None
    stacked: bool = False
    thresholds: list[tuple[float | None, str]] | None = None
    overrides: list[tuple[str, list[tuple[str, Any]]]] = field(default_factory=list)
    transformations: list[dict[str, Any]] = field(default_factory=list)
    no_value: str = ""


@dataclass
class Row:
    title: str
    panels: list[P]


@dataclass
class Board:
    uid: str
    title: str
    description: str
    tags: list[str]
    rows: list[Row]
    jaeger: bool = False
    annotations: list[Any] = field(default_factory=list)


def _targets(builder: Any, queries: list[Q]) -> None:
    for index, q in enumerate(queries):
        target = prometheus.Dataquery().expr(q.expr).ref_id(chr(ord("A") + index)).datasource(PROM)
        if q.legend:
            target = target.legend_format(q.legend)
        target = target.instant() if q.instant else target.range()
        if q.exemplar:
            target = target.exemplar(True)
        if q.table:
            target = target.format(pm.PromQueryFormat.TABLE)
        builder.with_target(target)


def _thresholds(steps: list[tuple[float | None, str]]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in steps])
    )


def _panel(p: P, panel_id: int, x: int, y: int) -> Any:
    if p.kind == "stat":
        b = (
            stat.Panel()
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .graph_mode(cm.BigValueGraphMode.NONE)
            .color_mode(cm.BigValueColorMode.VALUE)
        )
    elif p.kind in ("timeseries", "bars"):
        b = (
            timeseries.Panel()
            .legend(
                common.VizLegendOptions()
                .display_mode(cm.LegendDisplayMode.TABLE)
                .placement(cm.LegendPlacement.BOTTOM)
                .show_legend(True)
                .calcs(["mean", "max", "lastNotNull"])
            )
            .tooltip(common.VizTooltipOptions().mode(cm.TooltipDisplayMode.MULTI).sort(cm.SortOrder.DESCENDING))
            .span_nulls(True)
            .fill_opacity(10)
            .line_width(1)
        )
        if p.kind == "bars":
            b = b.draw_style(cm.GraphDrawStyle.BARS).fill_opacity(80)
        if p.stacked:
            b = b.stacking(common.StackingConfig().mode(cm.StackingMode.NORMAL))
    elif p.kind == "bargauge":
        b = (
            bargauge.Panel()
            .orientation(cm.VizOrientation.HORIZONTAL)
            .display_mode(cm.BarGaugeDisplayMode.GRADIENT)
            .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
            .show_unfilled(True)
        )
    elif p.kind in ("table", "traces"):
        b = table.Panel().cell_height(cm.TableCellHeight.SM).show_header(True)
    else:
        raise ValueError(p.kind)
    b = (
        b.id(panel_id)
        .title(p.title)
        .description(p.description)
        .unit(p.unit)
        .grid_pos(dm.GridPos(h=p.h, w=p.w, x=x, y=y))
    )
    if p.kind == "traces":
        assert p.traces is not None
        newest_first = common.TableSortByFieldState().display_name("Start time").desc(True)
        b = b.datasource(JAEGER).with_target(_Built(p.traces)).sort_by([newest_first])
    else:
        b = b.datasource(PROM)
        _targets(b, p.queries)
    if p.thresholds:
        b = b.thresholds(_thresholds(p.thresholds))
    if p.no_value:
        b = b.no_value(p.no_value)
    for name, props in p.overrides:
        b = b.override_by_name(name, [dm.DynamicConfigValue(id_val=key, value=value) for key, value in props])
    for transformation in p.transformations:
        b = b.with_transformation(
            dm.DataTransformerConfig(id_val=transformation["id"], options=transformation["options"])
        )
    return b


def build(board: Board) -> dict[str, Any]:
    # read-only: provisioned and generated, edits belong in dashboards/generate.py
    d = (
        dashboard.Dashboard(board.title)
        .uid(board.uid)
        .description(board.description)
        .tags(board.tags)
        .readonly()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .time("now-6h", "now")
        .refresh("1m")
        .timezone("browser")
        .version(1)
    )
    for variable in variables(board.jaeger):
        d = d.with_variable(variable)
    d = d.annotation(builtin_annotation())
    for annotation in board.annotations:
        d = d.annotation(_Built(annotation))
    panel_id, y = 1, 0
    for row in board.rows:
        d = d.with_row(dashboard.Row(row.title).id(panel_id).grid_pos(dm.GridPos(h=1, w=24, x=0, y=y)))
        panel_id, y, x, line_h = panel_id + 1, y + 1, 0, 0
        for p in row.panels:
            if x + p.w > 24:
                x, y, line_h = 0, y + line_h, 0
            d = d.with_panel(_panel(p, panel_id, x, y))
            panel_id, x, line_h = panel_id + 1, x + p.w, max(line_h, p.h)
        y += line_h
    return json.loads(JSONEncoder(sort_keys=True).encode(d.build()))


def variables(jaeger: bool) -> list[Any]:
    def query_var(name: str, label: str, query: str, description: str) -> Any:
        return (
            dashboard.QueryVariable(name)
            .label(label)
            .description(description)
            .query(query)
            .datasource(PROM)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
            .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"]))
        )

    out = [
        dashboard.DatasourceVariable("datasource")
        .label("Prometheus")
        .type("prometheus")
        .current(dm.VariableOption(selected=True, text="Prometheus", value=PROMETHEUS_UID)),
    ]
    if jaeger:
        out.append(
            dashboard.DatasourceVariable("traces")
            .label("Jaeger")
            .type("jaeger")
            .current(dm.VariableOption(selected=True, text="Jaeger", value=JAEGER_UID))
        )
    out += [
        query_var(
            "service",
            "Service",
            "label_values(otel_agent_tokens_total, service_name)",
            "service.name of the instrumented process (resource attribute, label service_name)",
        ),
        query_var(
            "agent",
            "Agent",
            f"label_values({sel('otel_agent_turns_total', SERVICE)}, gen_ai_agent_name)",
            "gen_ai.agent.name of the run (agent_run(name), else the service name)",
        ),
        query_var(
            "model",
            "Model",
            f"label_values({sel('otel_agent_tokens_total', SERVICE, AGENT)}, gen_ai_request_model)",
            "gen_ai.request.model. Run-level metrics (runs, run duration/turns/cost/tokens) carry no model "
            "label: panels built on them ignore this filter (their descriptions say so).",
        ),
    ]
    if jaeger:
        out.append(
            dashboard.QueryVariable("trace_service")
            .label("Trace service")
            .description("One service for the Jaeger trace tables (Jaeger search needs a single service name)")
            .query(f"label_values({sel('otel_agent_turns_total', SERVICE)}, service_name)")
            .datasource(PROM)
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
        )
    return out


NO_MODEL = " Run-level metrics carry no model label: the Model filter does not apply."


# ---------------------------------------------------------------------------------------------------------------------
# 1. Agent efficiency overview


def overview() -> Board:
    runs = sel("otel_agent_runs_total", SERVICE, AGENT)
    runs_ok = sel("otel_agent_runs_total", SERVICE, AGENT, SUCCESS)
    run_cost_sum = sel("otel_agent_run_cost_sum", SERVICE, AGENT)
    run_cost_count = sel("otel_agent_run_cost_count", SERVICE, AGENT)
    run_tokens_sum = sel("otel_agent_run_tokens_sum", SERVICE, AGENT)
    run_tokens_count = sel("otel_agent_run_tokens_count", SERVICE, AGENT)
    run_score_sum = sel("otel_agent_run_score_sum", SERVICE, AGENT)
    io_tokens = sel("otel_agent_run_tokens_sum", SERVICE, AGENT, 'gen_ai_token_type=~"input|output"')
    cost = sel("otel_agent_cost_total", SERVICE, AGENT, MODEL)
    tokens = sel("otel_agent_tokens_total", SERVICE, AGENT, MODEL)
    vram = sel("otel_agent_gpu_vram_time_total", SERVICE, AGENT, MODEL)
    agent = "gen_ai_agent_name"
    token_names = [
        ("input", "input (all, cached included)"),
        ("output", "output (thinking included)"),
        ("reasoning", "thinking (reasoning)"),
        ("cache_read", "cached (cache reads)"),
    ]
    renames = [(raw, [("displayName", nice)]) for raw, nice in token_names]
    return Board(
        uid="otel-agent-overview",
        title="otel-agent / Agent efficiency overview",
        description="Runs, success, run time, turns, tokens and cost per run, score per token, VRAM-time.",
        tags=["otel-agent", "genai"],
        rows=[
            Row(
                "Runs in the time range",
                [
                    P(
                        "stat",
                        "Runs",
                        "Finished agent runs (otel_agent_runs_total)." + NO_MODEL,
                        RUNS,
                        [Q(f"sum({in_range(runs)})", instant=True)],
                        w=4,
                        h=5,
                    ),
                    P(
                        "stat",
                        "Success rate",
                        "Runs with outcome success / all runs. Runs whose code never called "
                        "run.set_outcome() are `unknown` and count as not successful." + NO_MODEL,
                        SHARE,
                        [Q(f"sum({in_range(runs_ok)}) / sum({in_range(runs)})", instant=True)],
                        w=4,
                        h=5,
                        thresholds=[(None, "red"), (0.8, "orange"), (0.95, "green")],
                        no_value="no successful run",
                    ),
                    P(
                        "stat",
                        "Cost per run",
                        "Mean cost of a finished run (otel_agent_run_cost histogram)." + NO_MODEL,
                        USD,
                        [Q(f"sum({in_range(run_cost_sum)}) / sum({in_range(run_cost_count)})", instant=True)],
                        w=4,
                        h=5,
                    ),
                    P(
                        "stat",
                        "Cost per successful run",
                        "All run spend divided by successful runs: failed runs are "
                        "paid for by the successful ones (the effective price of a success)." + NO_MODEL,
                        USD,
                        [Q(f"sum({in_range(run_cost_sum)}) / sum({in_range(runs_ok)})", instant=True)],
                        w=4,
                        h=5,
                        no_value="no successful run",
                    ),
                    P(
                        "stat",
                        "Score per 1k tokens",
                        "Sum of run scores (run.set_outcome(score=...)) per 1000 input + "
                        "output tokens of all runs. Approximation of the per-run span attribute "
                        "otel_agent.run.score_per_1k_tokens: tokens of runs without a score are in the denominator."
                        + NO_MODEL,
                        COUNT,
                        [Q(f"sum({in_range(run_score_sum)}) / (sum({in_range(io_tokens)}) / 1000)", instant=True)],
                        w=4,
                        h=5,
                    ),
                    P(
                        "stat",
                        "VRAM-time",
                        "GPU memory held integrated over inference time (GiB·s), self-hosted models "
                        "on local endpoints with NVML only.",
                        GIB_S,
                        [Q(f"sum({in_range(vram)})", instant=True)],
                        w=4,
                        h=5,
                        no_value="no GPU",
                    ),
                ],
            ),
            Row(
                "Runs over time",
                [
                    P(
                        "bars",
                        "Runs by outcome",
                        "Finished runs per minute by agent and outcome." + NO_MODEL,
                        PER_MIN,
                        [
                            Q(
                                f"{by(f'{agent}, otel_agent_run_outcome', rate(runs))} * 60",
                                "{{gen_ai_agent_name}} {{otel_agent_run_outcome}}",
                            )
                        ],
                        w=8,
                        stacked=True,
                    ),
                    P(
                        "timeseries",
                        "Run time p50 / p95",
                        "Wall time of a run (otel_agent_run_duration histogram "
                        "quantiles, bucket resolution)." + NO_MODEL,
                        SECONDS,
                        [
                            Q(
                                f"histogram_quantile({q}, "
                                f"{by(f'le, {agent}', rate(sel('otel_agent_run_duration_seconds_bucket', SERVICE, AGENT)))})",
                                f"p{int(q * 100)} {{{{gen_ai_agent_name}}}}",
                            )
                            for q in (0.5, 0.95)
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Turns per run",
                        "Mean and p95 turns (model calls) per finished run." + NO_MODEL,
                        TURNS,
                        [
                            Q(
                                f"{by(agent, rate(sel('otel_agent_run_turns_sum', SERVICE, AGENT)))} / "
                                f"{by(agent, rate(sel('otel_agent_run_turns_count', SERVICE, AGENT)))}",
                                "mean {{gen_ai_agent_name}}",
                            ),
                            Q(
                                f"histogram_quantile(0.95, "
                                f"{by(f'le, {agent}', rate(sel('otel_agent_run_turns_bucket', SERVICE, AGENT)))})",
                                "p95 {{gen_ai_agent_name}}",
                            ),
                        ],
                        w=8,
                    ),
                ],
            ),
            Row(
                "Tokens and cost per run",
                [
                    P(
                        "timeseries",
                        "Tokens per run by type",
                        "Mean tokens per finished run. The types overlap: input "
                        "includes cached tokens, output includes thinking (reasoning) tokens." + NO_MODEL,
                        TOKENS,
                        [
                            Q(
                                f"{by('gen_ai_token_type', rate(run_tokens_sum))} / "
                                f"{by('gen_ai_token_type', rate(run_tokens_count))}",
                                "{{gen_ai_token_type}}",
                            )
                        ],
                        w=8,
                        overrides=renames,
                    ),
                    P(
                        "bargauge",
                        "Tokens per run by type (time range)",
                        "Mean tokens per run over the whole range; "
                        "input includes cached, output includes thinking." + NO_MODEL,
                        TOKENS,
                        [
                            Q(
                                f"{by('gen_ai_token_type', in_range(run_tokens_sum))} / "
                                f"{by('gen_ai_token_type', in_range(run_tokens_count))}",
                                "{{gen_ai_token_type}}",
                                instant=True,
                            )
                        ],
                        w=8,
                        overrides=renames,
                    ),
                    P(
                        "timeseries",
                        "Cost per run and per successful run",
                        "Mean cost per finished run, and all run spend per successful run, by agent." + NO_MODEL,
                        USD,
                        [
                            Q(
                                f"{by(agent, rate(run_cost_sum))} / {by(agent, rate(run_cost_count))}",
                                "per run {{gen_ai_agent_name}}",
                            ),
                            Q(
                                f"{by(agent, rate(run_cost_sum))} / {by(agent, rate(runs_ok))}",
                                "per successful run {{gen_ai_agent_name}}",
                            ),
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Score per 1k tokens by agent",
                        "Run scores per 1000 input + output tokens, by "
                        "agent (see the stat above for what is approximated)." + NO_MODEL,
                        COUNT,
                        [
                            Q(
                                f"{by(agent, rate(run_score_sum))} / ({by(agent, rate(io_tokens))} / 1000)",
                                "{{gen_ai_agent_name}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Tokens by type and model",
                        "Token throughput by model and type (otel_agent_tokens_total; calls outside a run included).",
                        TOKENS_PER_S,
                        [
                            Q(
                                by("gen_ai_request_model, gen_ai_token_type", rate(tokens)),
                                "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Spend by model",
                        "Spend rate per model in USD per hour (otel_agent_cost_total).",
                        USD,
                        [Q(f"{by('gen_ai_request_model', rate(cost))} * 3600", "{{gen_ai_request_model}} /h")],
                        w=8,
                    ),
                ],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------------------------
# 2. Wasted turns


def wasted_turns() -> Board:
    turns = sel("otel_agent_turns_total", SERVICE, AGENT, MODEL)
    wasted = sel("otel_agent_turns_total", SERVICE, AGENT, MODEL, WASTED)
    resent = sel("otel_agent_context_resent_tokens_total", SERVICE, AGENT, MODEL)
    inputs = sel("otel_agent_tokens_total", SERVICE, AGENT, MODEL, 'gen_ai_token_type="input"')
    cost = sel("otel_agent_cost_total", SERVICE, AGENT, MODEL)
    am = "gen_ai_agent_name, gen_ai_request_model"
    sam = f"service_name, {am}"
    reasons = (
        "Waste reasons (the first detector that fired): api_error, abandoned_stream, truncated, "
        "invalid_tool_call, repeated_tool_call, tool_error, repeated_output, empty, or a user detector's."
    )
    return Board(
        uid="otel-agent-wasted-turns",
        title="otel-agent / Wasted turns",
        description="Turns flagged wasted by the waste detectors: share, reasons, the runs behind them, and the "
        "context re-sent on every turn.",
        tags=["otel-agent", "genai", "waste"],
        jaeger=True,
        rows=[
            Row(
                "Wasted turns in the time range",
                [
                    P(
                        "stat",
                        "Wasted share",
                        "Wasted turns / all turns (otel_agent_turns_total). The "
                        "OtelAgentWastedTurnRatioHigh alert fires above 30 %.",
                        SHARE,
                        [Q(f"sum({in_range(wasted)}) / sum({in_range(turns)})", instant=True)],
                        w=6,
                        h=5,
                        thresholds=[(None, "green"), (0.1, "orange"), (0.3, "red")],
                        no_value="no wasted turn",
                    ),
                    P(
                        "stat",
                        "Wasted turns",
                        "Turns flagged otel_agent.turn.wasted.",
                        TURNS,
                        [Q(f"sum({in_range(wasted)})", instant=True)],
                        w=6,
                        h=5,
                        no_value="0",
                    ),
                    P(
                        "stat",
                        "Re-sent tokens per turn",
                        "Input tokens carried over from earlier turns of the same run (the amnesia tax), per turn.",
                        TOKENS,
                        [Q(f"sum({in_range(resent)}) / sum({in_range(turns)})", instant=True)],
                        w=6,
                        h=5,
                    ),
                    P(
                        "stat",
                        "Estimated spend on wasted turns",
                        "Approximation: turn metrics carry no cost, so each "
                        "service/agent/model's spend is multiplied by its wasted share, assuming a wasted turn costs as "
                        "much as an average turn of the same agent and model (API errors really cost nothing; truncated "
                        "and repeated turns are full price). Exact per-run numbers are on the run spans.",
                        USD,
                        [
                            Q(
                                f"sum({by(sam, in_range(cost))} * on ({sam}) "
                                f"({by(sam, in_range(wasted))} / {by(sam, in_range(turns))}))",
                                instant=True,
                            )
                        ],
                        w=6,
                        h=5,
                        no_value="no wasted turn",
                    ),
                ],
            ),
            Row(
                "Wasted share over time",
                [
                    P(
                        "timeseries",
                        "Wasted share by agent and model",
                        "Wasted turns / all turns per agent and model.",
                        SHARE,
                        [
                            Q(
                                f"{by(am, rate(wasted))} / {by(am, rate(turns))}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=12,
                        thresholds=[(None, "green"), (0.3, "red")],
                    ),
                    P(
                        "bars",
                        "Wasted turns by reason",
                        "Wasted turns per minute by reason. " + reasons,
                        PER_MIN,
                        [
                            Q(
                                f"{by('otel_agent_turn_waste_reason', rate(wasted))} * 60",
                                "{{otel_agent_turn_waste_reason}}",
                            )
                        ],
                        w=12,
                        stacked=True,
                    ),
                ],
            ),
            Row(
                "Reasons and the runs behind them",
                [
                    P(
                        "bargauge",
                        "Breakdown by reason (time range)",
                        reasons,
                        TURNS,
                        [
                            Q(
                                by("otel_agent_turn_waste_reason", in_range(wasted)),
                                "{{otel_agent_turn_waste_reason}}",
                                instant=True,
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Wasted turns with trace exemplars",
                        "Each diamond is an exemplar: a wasted turn's "
                        "trace id (label trace_id). Click it to open the run in Jaeger (the Prometheus datasource's "
                        "exemplarTraceIdDestinations). Needs Prometheus --enable-feature=exemplar-storage and the "
                        "collector's OpenMetrics exposition.",
                        PER_MIN,
                        [
                            Q(
                                f"{by('gen_ai_agent_name, otel_agent_turn_waste_reason', rate(wasted))} * 60",
                                "{{gen_ai_agent_name}} {{otel_agent_turn_waste_reason}}",
                                exemplar=True,
                            )
                        ],
                        w=16,
                    ),
                    P(
                        "traces",
                        "Runs with wasted turns (traces)",
                        "Jaeger search: the latest traces of $trace_service "
                        "with a span tagged otel_agent.turn.wasted=true. Jaeger cannot sort by an attribute: sort by "
                        "duration here, open a trace, and read otel_agent.run.wasted_turns and "
                        "otel_agent.run.wasted_turns.{reason} on its invoke_agent span. The Agent and Model filters do "
                        "not apply (Jaeger tag search is exact-match).",
                        MICROSECONDS,
                        w=24,
                        h=9,
                        traces=JaegerQuery("A", "${trace_service}", "otel_agent.turn.wasted=true"),
                    ),
                ],
            ),
            Row(
                "Re-sent context",
                [
                    P(
                        "timeseries",
                        "Re-sent context per turn",
                        "Input tokens re-sent from earlier turns of the same run, per turn, by agent and model.",
                        TOKENS,
                        [
                            Q(
                                f"{by(am, rate(resent))} / {by(am, rate(turns))}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Re-sent share of input tokens",
                        "Re-sent tokens / all input tokens: how much of "
                        "every prompt is history (cache reads make it cheaper, not smaller).",
                        SHARE,
                        [
                            Q(
                                f"{by(am, rate(resent))} / {by(am, rate(inputs))}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "bars",
                        "Failing tool calls",
                        "Tool calls that failed (otel_agent_tool_calls_total, is_error), a "
                        "source of tool_error waste. Tool metrics carry no agent or model label: only the Service filter "
                        "applies.",
                        PER_MIN,
                        [
                            Q(
                                f"{by('gen_ai_tool_name', rate(sel('otel_agent_tool_calls_total', SERVICE, TOOL_ERROR)))} * 60",
                                "{{gen_ai_tool_name}}",
                            )
                        ],
                        w=8,
                    ),
                ],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------------------------
# 3. Escalation points

ESC_LABELS = (
    "gen_ai_agent_name, otel_agent_escalation_from_model, otel_agent_escalation_to_model, "
    "otel_agent_escalation_reason, otel_agent_escalation_direction"
)
PAIR = "otel_agent_escalation_from_model, otel_agent_escalation_to_model, otel_agent_escalation_direction"
AGENT_MISSED = "gen_ai_agent_name, otel_agent_run_missed_escalation"
APPROX = (
    "Approximation: metrics carry no run id, so 'before' is every turn of the agent on a model it escalated "
    "FROM and 'after' every turn on a model it escalated TO, in the time range (turns of runs that never "
    "escalated included). The otel_agent.escalation span event of a run's trace gives exact per-run numbers."
)


def escalation_annotation(name: str, direction: str, color: str) -> PrometheusAnnotation:
    esc = sel("otel_agent_escalations_total", SERVICE, AGENT, TO_MODEL, direction)
    # increase() misses the first escalation of a new series: `unless ... offset` marks the series' first sample.
    expr = by(ESC_LABELS, f"increase({esc}[1m]) > 0 or ({esc} unless {esc} offset 1m)")
    return PrometheusAnnotation(
        name=name,
        datasource=PROM,
        enable=True,
        hide=False,
        icon_color=color,
        expr=expr,
        step="1m",
        title_format="{{otel_agent_escalation_from_model}} → {{otel_agent_escalation_to_model}}",
        text_format="{{gen_ai_agent_name}}: {{otel_agent_escalation_reason}}",
        tag_keys="gen_ai_agent_name,otel_agent_escalation_direction,otel_agent_escalation_reason",
    )


def escalations() -> Board:
    esc = sel("otel_agent_escalations_total", SERVICE, AGENT, TO_MODEL)
    esc_up = sel("otel_agent_escalations_total", SERVICE, AGENT, TO_MODEL, UP)
    esc_down = sel("otel_agent_escalations_total", SERVICE, AGENT, TO_MODEL, DOWN)
    esc_up_all = sel("otel_agent_escalations_total", SERVICE, AGENT, UP)
    runs = "otel_agent_runs_total"
    turns = sel("otel_agent_turns_total", SERVICE, AGENT)
    wasted = sel("otel_agent_turns_total", SERVICE, AGENT, WASTED)
    cost = sel("otel_agent_cost_total", SERVICE, AGENT)
    am = "gen_ai_agent_name, gen_ai_request_model"

    def side(value: str, label: str) -> str:
        """`value` (by agent, model) kept only for models the agent escalated from / to (label_replace on the
        escalation's from/to model label)."""
        models = by(f"gen_ai_agent_name, {label}", in_range(esc_up_all))
        return f'({value}) and on ({am}) label_replace({models}, "gen_ai_request_model", "$1", "{label}", "(.*)")'

    def before_after(value: str) -> list[Q]:
        return [
            Q(
                side(value, "otel_agent_escalation_from_model"),
                "before: {{gen_ai_agent_name}} on {{gen_ai_request_model}}",
                instant=True,
            ),
            Q(
                side(value, "otel_agent_escalation_to_model"),
                "after: {{gen_ai_agent_name}} on {{gen_ai_request_model}}",
                instant=True,
            ),
        ]

    table_renames = {
        "gen_ai_agent_name": "Agent",
        "otel_agent_escalation_from_model": "From",
        "otel_agent_escalation_to_model": "To",
        "otel_agent_escalation_reason": "Reason",
        "otel_agent_escalation_direction": "Direction",
        "Value": "Escalations",
    }
    model_note = " The Model filter matches the model escalated TO."
    return Board(
        uid="otel-agent-escalations",
        title="otel-agent / Escalation points",
        description="Model escalations (and de-escalations) as annotations, from -> to with reasons, runs that "
        "stagnated without escalating, and turns and cost before vs after escalation.",
        tags=["otel-agent", "genai", "escalation"],
        jaeger=True,
        annotations=[
            escalation_annotation("Escalations (up)", UP, "red"),
            escalation_annotation("De-escalations (down)", DOWN, "green"),
        ],
        rows=[
            Row(
                "Escalations in the time range",
                [
                    P(
                        "stat",
                        "Escalations (up)",
                        "Moves to a higher model tier (otel_agent_escalations_total, direction up)." + model_note,
                        COUNT,
                        [Q(f"sum({in_range(esc_up)})", instant=True)],
                        w=5,
                        h=5,
                        no_value="0",
                    ),
                    P(
                        "stat",
                        "De-escalations (down)",
                        "Moves to a lower model tier." + model_note,
                        COUNT,
                        [Q(f"sum({in_range(esc_down)})", instant=True)],
                        w=5,
                        h=5,
                        no_value="0",
                    ),
                    P(
                        "stat",
                        "Escalations per 100 turns",
                        "Escalations (up) per 100 turns of the same agents.",
                        COUNT,
                        [Q(f"100 * sum({in_range(esc_up_all)}) / sum({in_range(turns)})", instant=True)],
                        w=4,
                        h=5,
                        no_value="0",
                    ),
                    P(
                        "stat",
                        "Stagnated runs",
                        "Runs that stagnated at some point (otel_agent.run.stagnated)." + NO_MODEL,
                        RUNS,
                        [Q(f"sum({in_range(sel(runs, SERVICE, AGENT, STAGNATED))})", instant=True)],
                        w=5,
                        h=5,
                        no_value="0",
                    ),
                    P(
                        "stat",
                        "Stagnated without escalating",
                        "Runs that stagnated and did not escalate afterwards "
                        '(otel_agent_runs_total{otel_agent_run_missed_escalation="true"}): missed escalations.'
                        + NO_MODEL,
                        RUNS,
                        [Q(f"sum({in_range(sel(runs, SERVICE, AGENT, MISSED))})", instant=True)],
                        w=5,
                        h=5,
                        thresholds=[(None, "green"), (1, "red")],
                        no_value="0",
                    ),
                ],
            ),
            Row(
                "Where escalations happen (annotations: red = up, green = down)",
                [
                    P(
                        "bars",
                        "Turns by model, escalations marked",
                        "Turns per minute by model; the annotations mark "
                        "the minute of each escalation with from -> to and the reason.",
                        PER_MIN,
                        [
                            Q(
                                f"{by('gen_ai_request_model', rate(sel('otel_agent_turns_total', SERVICE, AGENT, MODEL)))} * 60",
                                "{{gen_ai_request_model}}",
                            )
                        ],
                        w=12,
                        stacked=True,
                    ),
                    P(
                        "bars",
                        "Escalations by from -> to",
                        "Escalations per minute by model pair and direction." + model_note,
                        PER_MIN,
                        [
                            Q(
                                f"{by(PAIR, rate(esc))} * 60",
                                "{{otel_agent_escalation_from_model}} → {{otel_agent_escalation_to_model}} "
                                "({{otel_agent_escalation_direction}})",
                            )
                        ],
                        w=12,
                    ),
                    P(
                        "table",
                        "Escalations: from -> to, with reasons",
                        "Escalations in the time range by agent, "
                        "model pair, reason (explicit, stagnation, unspecified) and direction." + model_note,
                        COUNT,
                        [Q(by(ESC_LABELS, in_range(esc)), instant=True, table=True)],
                        w=24,
                        h=7,
                        transformations=[
                            {
                                "id": "organize",
                                "options": {
                                    "excludeByName": {"Time": True},
                                    "renameByName": table_renames,
                                    "indexByName": {name: i for i, name in enumerate(table_renames)},
                                },
                            }
                        ],
                    ),
                ],
            ),
            Row(
                "Runs that stagnated without escalating",
                [
                    P(
                        "bars",
                        "Stagnated runs: escalated vs missed",
                        "Runs per minute that stagnated, split by whether "
                        "they escalated afterwards (missed_escalation=false) or not (true)." + NO_MODEL,
                        PER_MIN,
                        [
                            Q(
                                f"{by(AGENT_MISSED, rate(sel(runs, SERVICE, AGENT, STAGNATED)))} * 60",
                                "{{gen_ai_agent_name}} missed={{otel_agent_run_missed_escalation}}",
                            )
                        ],
                        w=10,
                        stacked=True,
                    ),
                    P(
                        "traces",
                        "Runs that stagnated without escalating (traces)",
                        "Jaeger search: the latest traces of "
                        "$trace_service whose invoke_agent span has otel_agent.run.missed_escalation=true. Agent and Model "
                        "filters do not apply.",
                        MICROSECONDS,
                        w=14,
                        traces=JaegerQuery("A", "${trace_service}", "otel_agent.run.missed_escalation=true"),
                    ),
                ],
            ),
            Row(
                "Turns and cost before vs after escalation (approximation)",
                [
                    P(
                        "bargauge",
                        "Turns before vs after escalation",
                        APPROX,
                        TURNS,
                        before_after(by(am, in_range(turns))),
                        w=8,
                    ),
                    P(
                        "bargauge",
                        "Cost per turn before vs after escalation",
                        APPROX,
                        USD,
                        before_after(f"{by(am, in_range(cost))} / {by(am, in_range(turns))}"),
                        w=8,
                    ),
                    P(
                        "bargauge",
                        "Wasted share before vs after escalation",
                        APPROX + " Did escalating stop the waste?",
                        SHARE,
                        before_after(
                            f"({by(am, in_range(wasted))} or 0 * {by(am, in_range(turns))}) / {by(am, in_range(turns))}"
                        ),
                        w=8,
                    ),
                ],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------------------------
# 4. Cost drift and price reversal


def cost_drift() -> Board:
    cost = sel("otel_agent_cost_total", SERVICE, AGENT, MODEL)
    reasoning_cost = sel("otel_agent_cost_total", SERVICE, AGENT, MODEL, 'otel_agent_cost_component="reasoning"')
    reasoning = sel("otel_agent_tokens_total", SERVICE, AGENT, MODEL, 'gen_ai_token_type="reasoning"')
    output = sel("otel_agent_tokens_total", SERVICE, AGENT, MODEL, 'gen_ai_token_type="output"')
    io_tokens = sel("otel_agent_tokens_total", SERVICE, AGENT, MODEL, 'gen_ai_token_type=~"input|output"')
    turns = sel("otel_agent_turns_total", SERVICE, AGENT, MODEL)
    run_cost_sum = sel("otel_agent_run_cost_sum", SERVICE, AGENT)
    run_cost_count = sel("otel_agent_run_cost_count", SERVICE, AGENT)
    runs_ok = sel("otel_agent_runs_total", SERVICE, AGENT, SUCCESS)
    list_price = sel("otel_agent_model_list_price", SERVICE, MODEL, 'gen_ai_token_type="blended"')
    am = "gen_ai_agent_name, gen_ai_request_model"
    sa = "service_name, gen_ai_agent_name"
    model = "gen_ai_request_model"
    baseline = "1 day earlier (offset 1d)"
    per_success = (
        f"sum by ({model}) ({by(f'{sa}, {model}', in_range(cost))} / on ({sa}) group_left {by(sa, in_range(runs_ok))})"
    )
    per_success_rate = (
        f"sum by ({model}) ({by(f'{sa}, {model}', rate(cost))} / on ({sa}) group_left {by(sa, rate(runs_ok))})"
    )
    effective_per_1m = f"{by(model, in_range(cost))} / {by(model, in_range(io_tokens))} * 1e6"
    table_renames = {
        model: "Model",
        "Value #A": "List price (USD / 1M tokens, blended)",
        "Value #B": "Effective USD / 1M tokens",
        "Value #C": "USD per successful run (model's share)",
        "Value #D": "Spend (USD)",
    }
    per_success_note = (
        "Runs carry no model label, so per model this is the model's spend divided by the "
        "successful runs of the agents that used it (summed over agents): exact for agents that run "
        "one model per run, a share of the run cost for agents that switch models."
    )
    return Board(
        uid="otel-agent-cost",
        title="otel-agent / Cost drift and price reversal",
        description="Spend against its baseline a day earlier, cost per run drift, the thinking-token share of cost, "
        "and list price against effective cost per successful run (price reversal).",
        tags=["otel-agent", "genai", "cost"],
        rows=[
            Row(
                "Spend against its baseline",
                [
                    P(
                        "stat",
                        "Spend (time range)",
                        "Total spend (otel_agent_cost_total).",
                        USD,
                        [Q(f"sum({in_range(cost)})", instant=True)],
                        w=6,
                        h=5,
                    ),
                    P(
                        "stat",
                        "Spend ratio vs the same range a day earlier",
                        "Spend in the range / spend in the same range one day earlier (needs a day of history).",
                        SHARE,
                        [Q(f"sum({in_range(cost)}) / sum(increase({cost}[$__range] offset 1d))", instant=True)],
                        w=6,
                        h=5,
                        thresholds=[(None, "green"), (1.5, "red")],
                        no_value="no baseline yet",
                    ),
                    P(
                        "timeseries",
                        "Spend rate vs baseline",
                        "Spend in USD per hour now and one day earlier: the "
                        "OtelAgentSpendDrift alert fires when the hourly rate exceeds 1.5x the baseline.",
                        USD,
                        [
                            Q(f"sum({rate(cost)}) * 3600", "now /h"),
                            Q(f"sum(rate({cost}[$__rate_interval] offset 1d)) * 3600", f"{baseline} /h"),
                        ],
                        w=12,
                        h=10,
                    ),
                    P(
                        "timeseries",
                        "Spend drift ratio by agent and model",
                        "Hourly spend rate / the same hour one day "
                        "earlier (1 = unchanged), per agent and model; the alert threshold is 1.5.",
                        SHARE,
                        [
                            Q(
                                f"{by(am, rate(cost, '1h'))} / {by(am, f'rate({cost}[1h] offset 1d)')}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=12,
                        thresholds=[(None, "green"), (1.5, "red")],
                    ),
                    P(
                        "bargauge",
                        "Spend by model (time range)",
                        "Spend per model over the range.",
                        USD,
                        [Q(by(model, in_range(cost)), "{{gen_ai_request_model}}", instant=True)],
                        w=12,
                    ),
                ],
            ),
            Row(
                "Cost per run drift",
                [
                    P(
                        "timeseries",
                        "Cost per run vs baseline",
                        "Mean cost per finished run by agent, now and one day "
                        "earlier (the OtelAgentCostPerRunDrift alert compares 6h windows)." + NO_MODEL,
                        USD,
                        [
                            Q(
                                f"{by('gen_ai_agent_name', rate(run_cost_sum))} / "
                                f"{by('gen_ai_agent_name', rate(run_cost_count))}",
                                "now {{gen_ai_agent_name}}",
                            ),
                            Q(
                                f"{by('gen_ai_agent_name', f'rate({run_cost_sum}[$__rate_interval] offset 1d)')} / "
                                f"{by('gen_ai_agent_name', f'rate({run_cost_count}[$__rate_interval] offset 1d)')}",
                                f"{baseline} {{{{gen_ai_agent_name}}}}",
                            ),
                        ],
                        w=12,
                    ),
                    P(
                        "timeseries",
                        "Cost per turn vs baseline",
                        "Spend per turn by agent, now and one day earlier: "
                        "prompt bloat and re-sent context show up here before they show up per run.",
                        USD,
                        [
                            Q(
                                f"{by('gen_ai_agent_name', rate(cost))} / {by('gen_ai_agent_name', rate(turns))}",
                                "now {{gen_ai_agent_name}}",
                            ),
                            Q(
                                f"{by('gen_ai_agent_name', f'rate({cost}[$__rate_interval] offset 1d)')} / "
                                f"{by('gen_ai_agent_name', f'rate({turns}[$__rate_interval] offset 1d)')}",
                                f"{baseline} {{{{gen_ai_agent_name}}}}",
                            ),
                        ],
                        w=12,
                    ),
                ],
            ),
            Row(
                "Thinking tokens",
                [
                    P(
                        "timeseries",
                        "Thinking-token share of cost",
                        "Cost of reasoning / thinking tokens "
                        "(otel_agent_cost_component=reasoning) / all cost, per agent and model; 0 for models that "
                        "emit no reasoning tokens.",
                        SHARE,
                        [
                            Q(
                                f"({by(am, rate(reasoning_cost))} or 0 * {by(am, rate(cost))}) / {by(am, rate(cost))}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "Thinking share of output tokens",
                        "Reasoning tokens / output tokens (output "
                        "includes reasoning); the OtelAgentThinkingTokenBloat alert watches its rise vs a day earlier.",
                        SHARE,
                        [
                            Q(
                                f"({by(am, rate(reasoning))} or 0 * {by(am, rate(output))}) / {by(am, rate(output))}",
                                "{{gen_ai_agent_name}} / {{gen_ai_request_model}}",
                            )
                        ],
                        w=8,
                    ),
                    P(
                        "bars",
                        "Spend by component",
                        "Spend in USD per hour by component: input, output, reasoning, cache_read, cache_write, gpu, "
                        "unattributed (a cost the provider reported, without a breakdown).",
                        USD,
                        [
                            Q(
                                f"{by('otel_agent_cost_component', rate(cost))} * 3600",
                                "{{otel_agent_cost_component}} /h",
                            )
                        ],
                        w=8,
                        stacked=True,
                    ),
                ],
            ),
            Row(
                "List price vs effective cost (price reversal)",
                [
                    P(
                        "table",
                        "List price vs effective cost per model",
                        "Price reversal: a model with the lower list "
                        "price can cost more per successful run (more turns, more waste, more thinking). Compare the "
                        "list price (otel_agent_model_list_price, blended) with what the tokens really cost and with the "
                        "cost per successful run. " + per_success_note,
                        USD,
                        [
                            Q(by(model, list_price, "max"), instant=True, table=True),
                            Q(effective_per_1m, instant=True, table=True),
                            Q(per_success, instant=True, table=True),
                            Q(by(model, in_range(cost)), instant=True, table=True),
                        ],
                        w=24,
                        h=8,
                        transformations=[
                            {"id": "merge", "options": {}},
                            {
                                "id": "organize",
                                "options": {
                                    "excludeByName": {"Time": True},
                                    "renameByName": table_renames,
                                    "indexByName": {n: i for i, n in enumerate(table_renames)},
                                },
                            },
                        ],
                    ),
                    P(
                        "timeseries",
                        "Cost per successful run by model",
                        per_success_note,
                        USD,
                        [Q(per_success_rate, "{{gen_ai_request_model}}")],
                        w=12,
                    ),
                    P(
                        "timeseries",
                        "List price by model",
                        "List price in USD per million tokens by model and token "
                        "type (input, output, blended 3:1), from the price data in use.",
                        USD,
                        [
                            Q(
                                by(
                                    f"{model}, gen_ai_token_type",
                                    sel("otel_agent_model_list_price", SERVICE, MODEL),
                                    "max",
                                ),
                                "{{gen_ai_request_model}} {{gen_ai_token_type}}",
                            )
                        ],
                        w=12,
                    ),
                ],
            ),
        ],
    )


# ---------------------------------------------------------------------------------------------------------------------
# 5. GPU


def gpu() -> Board:
    vram = sel("otel_agent_gpu_vram_time_total", SERVICE, AGENT, MODEL)
    turns = sel("otel_agent_turns_total", SERVICE, AGENT, MODEL)
    gpu_cost = sel("otel_agent_cost_total", SERVICE, AGENT, MODEL, 'otel_agent_cost_component="gpu"')
    model = "gen_ai_request_model"
    device = "hw_id, hw_model"
    device_note = (
        " Device-level NVML readings (hw.gpu.*) carry no agent or model label: only the Service filter "
        "applies; per-call utilization is the otel_agent.gpu.utilization_mean span attribute."
    )
    return Board(
        uid="otel-agent-gpu",
        title="otel-agent / GPU (self-hosted models)",
        description="VRAM-time and GPU cost per self-hosted model, GPU utilization and memory. Needs a GPU, NVML "
        "(pip install 'otel-agent[gpu]') and models served on a local endpoint.",
        tags=["otel-agent", "genai", "gpu"],
        rows=[
            Row(
                "VRAM-time per model",
                [
                    P(
                        "stat",
                        "VRAM-time (time range)",
                        "GPU memory held integrated over inference time.",
                        GIB_S,
                        [Q(f"sum({in_range(vram)})", instant=True)],
                        w=6,
                        h=5,
                        no_value="no GPU",
                    ),
                    P(
                        "stat",
                        "GPU cost (time range)",
                        "GPU-hour priced cost of self-hosted calls (otel_agent_cost_component=gpu).",
                        USD,
                        [Q(f"sum({in_range(gpu_cost)})", instant=True)],
                        w=6,
                        h=5,
                        no_value="no GPU-hour price",
                    ),
                    P(
                        "bargauge",
                        "VRAM-time per turn by model",
                        "GiB·s per turn of each self-hosted model.",
                        GIB_S,
                        [
                            Q(
                                f"{by(model, in_range(vram))} / {by(model, in_range(turns))}",
                                "{{gen_ai_request_model}}",
                                instant=True,
                            )
                        ],
                        w=12,
                        h=5,
                    ),
                    P(
                        "timeseries",
                        "VRAM held during inference by model",
                        "Rate of VRAM-time (GiB·s per second) = the "
                        "GiB of GPU memory held on average while the model was serving this service's calls.",
                        GIB,
                        [Q(by(model, rate(vram)), "{{gen_ai_request_model}}")],
                        w=12,
                    ),
                    P(
                        "timeseries",
                        "GPU cost by model",
                        "GPU-hour priced cost in USD per hour by model.",
                        USD,
                        [Q(f"{by(model, rate(gpu_cost))} * 3600", "{{gen_ai_request_model}} /h")],
                        w=12,
                    ),
                ],
            ),
            Row(
                "GPU devices",
                [
                    P(
                        "timeseries",
                        "GPU utilization",
                        "hw.gpu.utilization per device." + device_note,
                        SHARE,
                        [Q(by(device, sel("hw_gpu_utilization_ratio", SERVICE), "avg"), "{{hw_id}} {{hw_model}}")],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "GPU memory used",
                        "hw.gpu.memory.usage and .limit per device." + device_note,
                        BYTES,
                        [
                            Q(
                                by(device, sel("hw_gpu_memory_usage_bytes", SERVICE), "max"),
                                "used {{hw_id}} {{hw_model}}",
                            ),
                            Q(by(device, sel("hw_gpu_memory_limit_bytes", SERVICE), "max"), "limit {{hw_id}}"),
                        ],
                        w=8,
                    ),
                    P(
                        "timeseries",
                        "GPU memory utilization",
                        "hw.gpu.memory.utilization per device." + device_note,
                        SHARE,
                        [
                            Q(
                                by(device, sel("hw_gpu_memory_utilization_ratio", SERVICE), "max"),
                                "{{hw_id}} {{hw_model}}",
                            )
                        ],
                        w=8,
                    ),
                ],
            ),
        ],
    )


BOARDS = {
    "agent-efficiency-overview": overview,
    "wasted-turns": wasted_turns,
    "escalation-points": escalations,
    "cost-drift-price-reversal": cost_drift,
    "gpu": gpu,
}


def render() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        f"{name}.json": json.dumps(build(factory()), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        for name, factory in BOARDS.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=JSON_DIR, help="output folder (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="compare with the files in --out, write nothing")
    args = parser.parse_args(argv)
    rendered = render()
    if args.check:
        stale = [
            name
            for name, text in rendered.items()
            if not (args.out / name).is_file() or (args.out / name).read_text(encoding="utf-8") != text
        ]
        extra = sorted({p.name for p in args.out.glob("*.json")} - set(rendered))
        for name in stale:
            print(f"out of date: {args.out / name} (run python dashboards/generate.py)", file=sys.stderr)
        for name in extra:
            print(f"not generated by dashboards/generate.py: {args.out / name}", file=sys.stderr)
        return 1 if stale or extra else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
