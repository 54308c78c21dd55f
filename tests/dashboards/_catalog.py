"""What the dashboards may query: metric and label names from docs/attributes.md and from the code (names.py).

Docs side: the metrics table of docs/attributes.md, its Prometheus names in brackets and its per-metric attribute
column (with the table's shorthands: "operation", "request model", "agent", "same, without token type", `.to_model`
relative to the previous name...). Code side: `names.ALL_METRICS` translated with the collector's rules, and every
attribute name the code defines, `.` -> `_`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from otel_agent.telemetry import names as n

ROOT = Path(__file__).resolve().parents[2]
ATTRIBUTES_MD = ROOT / "docs" / "attributes.md"

# Labels every series may carry without the docs listing them per metric: the collector adds resource attributes
# (resource_to_telemetry_conversion: service.name), Prometheus adds job/instance, histograms have `le`.
GLOBAL_LABELS = {"service_name", "job", "instance", "le"}
SUFFIXES = ("_total", "_bucket", "_sum", "_count")

# Shorthands of the metrics table's attribute column.
SHORTHANDS: dict[str, list[str]] = {
    "operation": ["gen_ai.operation.name"],
    "provider": ["gen_ai.provider.name"],
    "request model": ["gen_ai.request.model"],
    "request/response model": ["gen_ai.request.model", "gen_ai.response.model"],
    "server address/port": ["server.address", "server.port"],
    "agent": ["gen_ai.agent.name"],
    "outcome": ["otel_agent.run.outcome"],
    "latest conventions only": [
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.response.model",
        "server.address",
        "server.port",
        "error.type",
    ],
}


def prom(attribute: str) -> str:
    """Attribute name -> Prometheus label name (the collector's translation)."""
    return re.sub(r"[^a-zA-Z0-9_]", "_", attribute)


@dataclass
class DocMetric:
    name: str
    instrument: str
    unit: str
    prometheus: str | None
    attributes: list[str]
    values: dict[str, set[str]] = field(default_factory=dict)  # attribute -> values the row lists

    @property
    def labels(self) -> set[str]:
        return {prom(a) for a in self.attributes}


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


@cache
def doc_metrics() -> dict[str, DocMetric]:
    text = ATTRIBUTES_MD.read_text(encoding="utf-8")
    section = text.split("## Metrics", 1)[1]
    out: dict[str, DocMetric] = {}
    previous: list[str] = []
    row = re.compile(
        r"^\|\s*`(?P<name>[^`]+)`(?:\s*\[`(?P<prom>[^`]+)`\])?\s*\|\s*(?P<inst>[^|]+?)\s*\|"
        r"\s*`(?P<unit>[^`]+)`\s*\|\s*(?P<attrs>.*?)\s*\|\s*$"
    )
    for line in section.splitlines():
        match = row.match(line)
        if not match:
            continue
        attrs_text = match["attrs"].split(":", 1)[0]  # "...: USD per million tokens" explains, lists nothing
        attributes: list[str] = []
        values: dict[str, set[str]] = {}
        last_full = ""
        for part in _split_top(attrs_text):
            listed = re.findall(r"\(([^)]*)\)", part)
            head = re.sub(r"\([^)]*\)", "", part).strip()
            if head.startswith("`"):
                name = head.strip("`")
                if name.startswith("."):
                    name = last_full.rsplit(".", 1)[0] + name
                last_full = name
                attributes.append(name)
                if listed:
                    values[name] = set(re.findall(r"`([^`]+)`", listed[0]))
            elif head == "same":
                attributes += previous
            elif head.startswith("same"):
                raise ValueError(f"unknown shorthand {head!r} in docs/attributes.md")
            elif head == "without token type":
                attributes = [a for a in attributes if a != "gen_ai.token.type"]
            elif head in SHORTHANDS:
                attributes += SHORTHANDS[head]
            else:
                raise ValueError(
                    f"unknown attribute shorthand {head!r} in the metrics table of docs/attributes.md: "
                    "teach tests/dashboards/_catalog.py SHORTHANDS"
                )
        previous = list(attributes)
        out[match["name"]] = DocMetric(
            match["name"], match["inst"].strip(), match["unit"], match["prom"], attributes, values
        )
    return out


@cache
def doc_attribute_values() -> dict[str, set[str]]:
    """Attribute -> the values docs/attributes.md lists for it (metrics table and attribute tables), and
    true/false for booleans."""
    text = ATTRIBUTES_MD.read_text(encoding="utf-8")
    values: dict[str, set[str]] = {}
    for metric in doc_metrics().values():
        for attribute, listed in metric.values.items():
            values.setdefault(attribute, set()).update(listed)
    for line in text.splitlines():
        match = re.match(r"^\|\s*`([a-z_.{}]+)`\s*\|\s*([a-z\[\]]+)\s*\|(.*)\|\s*$", line)
        if not match:
            continue
        attribute, kind, source = match.groups()
        if kind == "boolean":
            values.setdefault(attribute, set()).update({"true", "false"})
        elif kind == "string":
            words = {w for w in re.findall(r"`([a-z_]+)`", source)}
            if words:
                values.setdefault(attribute, set()).update(words)
    return values


def prometheus_names_of(spec: n.MetricSpec) -> set[str]:
    """The series names the collector's prometheus exporter writes for one instrument (see shared notes)."""
    base = spec.name.replace(".", "_")
    unit = spec.unit
    if unit.startswith("{") or not unit:
        suffix = ""
    elif unit == "s":
        suffix = "_seconds"
    elif unit == "By":
        suffix = "_bytes"
    elif unit == "1":
        suffix = "_ratio" if spec.kind == "gauge" else ""
    else:
        suffix = "_" + unit
    name = base if base.endswith(suffix) else base + suffix
    if spec.kind == "counter":
        return {name + "_total"}
    if spec.kind == "histogram":
        return {name + s for s in ("_bucket", "_sum", "_count")}
    return {name}


@cache
def code_series() -> dict[str, n.MetricSpec]:
    """Prometheus series name -> the instrument in names.ALL_METRICS that produces it."""
    return {series: spec for spec in n.ALL_METRICS for series in prometheus_names_of(spec)}


@cache
def code_labels() -> set[str]:
    """Every attribute name the code defines (names.py constants and GenAI names of both conventions), translated."""
    attributes = set(n.all_genai_names())
    for constant, value in vars(n).items():
        if constant.isupper() and isinstance(value, str) and re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+\.?", value):
            attributes.add(value.rstrip("."))
    return {prom(a) for a in attributes}


@cache
def doc_series() -> dict[str, DocMetric]:
    """Prometheus series name (documented in brackets, or derived for histograms) -> its documented metric."""
    out: dict[str, DocMetric] = {}
    for metric in doc_metrics().values():
        if not metric.prometheus:
            continue
        out[metric.prometheus] = metric
        if metric.instrument == "histogram":
            base = metric.prometheus.removesuffix("_bucket")
            for suffix in ("_bucket", "_sum", "_count"):
                out[base + suffix] = metric
    return out


def base_name(series: str) -> str:
    for suffix in SUFFIXES:
        if series.endswith(suffix):
            return series[: -len(suffix)]
    return series
