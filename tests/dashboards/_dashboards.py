"""The committed dashboards and provisioning, and every query in them, for the static and the live tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "dashboards"
JSON_DIR = DASHBOARDS / "json"
PROVISIONING = DASHBOARDS / "provisioning"

# Grafana's built-in variables, filled the way Grafana would for a 1m-scrape, 15s-interval view.
BUILTIN_VALUES = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}


@dataclass(frozen=True)
class Query:
    dashboard: str  # uid
    panel: str  # panel title, "annotation: <name>" or "variable: <name>"
    ref_id: str
    kind: str  # prometheus | jaeger | annotation | variable
    expr: str  # PromQL; for jaeger the tags; for variable the label_values(...) query
    legend: str = ""
    instant: bool = False
    exemplar: bool = False
    target: Any = None

    @property
    def id(self) -> str:
        return f"{self.dashboard}/{self.panel}/{self.ref_id}"


@cache
def dashboards() -> dict[str, dict[str, Any]]:
    """File name -> dashboard JSON."""
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(JSON_DIR.glob("*.json"))}


def all_panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))  # collapsed rows keep their panels inside
    return out


def queries_of(dashboard: dict[str, Any]) -> list[Query]:
    uid = dashboard["uid"]
    out: list[Query] = []
    for panel in all_panels(dashboard):
        if panel.get("type") == "row":
            continue
        for target in panel.get("targets", []):
            ds_type = (target.get("datasource") or panel.get("datasource") or {}).get("type")
            if ds_type == "jaeger":
                out.append(Query(uid, panel["title"], target["refId"], "jaeger", target.get("tags", ""), target=target))
            else:
                out.append(
                    Query(
                        uid,
                        panel["title"],
                        target["refId"],
                        "prometheus",
                        target["expr"],
                        legend=target.get("legendFormat", ""),
                        instant=bool(target.get("instant")),
                        exemplar=bool(target.get("exemplar")),
                        target=target,
                    )
                )
    for annotation in dashboard.get("annotations", {}).get("list", []):
        if annotation.get("datasource", {}).get("type") == "prometheus":
            legend = " ".join(
                [annotation.get("titleFormat", ""), annotation.get("textFormat", "")]
                + ["{{%s}}" % k for k in annotation.get("tagKeys", "").split(",") if k]
            )
            out.append(
                Query(
                    uid,
                    f"annotation: {annotation['name']}",
                    "annotation",
                    "annotation",
                    annotation["expr"],
                    legend=legend,
                    target=annotation,
                )
            )
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            out.append(
                Query(uid, f"variable: {variable['name']}", "variable", "variable", variable["query"], target=variable)
            )
    return out


@cache
def all_queries() -> tuple[Query, ...]:
    return tuple(q for d in dashboards().values() for q in queries_of(d))


@cache
def provisioning() -> dict[str, Any]:
    """Relative path -> parsed YAML of every provisioning file."""
    return {
        str(path.relative_to(PROVISIONING)): yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(PROVISIONING.rglob("*.y*ml"))
    }


def provisioned_datasources() -> list[dict[str, Any]]:
    return [
        ds
        for name, doc in provisioning().items()
        if name.startswith("datasources/")
        for ds in (doc or {}).get("datasources", [])
    ]


def variable_values(dashboard: dict[str, Any], all_value: str = ".*") -> dict[str, str]:
    """Variables filled like a user who picked `All` everywhere, on the provisioned datasources."""
    values = dict(BUILTIN_VALUES)
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable["type"] == "datasource":
            values[variable["name"]] = variable.get("current", {}).get("value", "")
        elif variable.get("includeAll"):
            values[variable["name"]] = variable.get("allValue") or all_value
    return values
