"""Run dashboard queries the way Grafana would, against a real Prometheus and Jaeger (HTTP APIs, stdlib only)."""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from . import _promql as promql
from ._dashboards import Query


@dataclass(frozen=True)
class Window:
    start: float  # unix seconds
    end: float
    step: str = "15s"  # $__interval

    @property
    def range(self) -> str:
        return f"{math.ceil(self.end - self.start)}s"

    def values(self, dashboard_values: dict[str, str]) -> dict[str, str]:
        """Grafana's built-ins for this window: $__range covers it, $__interval is the step."""
        return {**dashboard_values, "__range": self.range, "__interval": self.step, "__rate_interval": "1m"}


@dataclass
class Result:
    ok: bool  # the API answered success
    samples: int  # finite samples (or label values, or traces)
    detail: str = ""
    raw: Any = None


def http_json(url: str, params: dict[str, Any] | None = None, timeout: float = 30) -> Any:
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:  # Prometheus answers 400/422 with a JSON error body
        body = error.read().decode("utf-8", "replace")
        try:
            return json.loads(body)
        except ValueError:
            return {"status": "error", "error": f"HTTP {error.code}: {body[:300]}"}


def _finite(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def count_samples(data: dict[str, Any]) -> int:
    result = data.get("result", [])
    if data.get("resultType") == "matrix":
        return sum(1 for series in result for _, value in series.get("values", []) if _finite(value))
    if data.get("resultType") == "vector":
        return sum(1 for series in result if _finite(series["value"][1]))
    if data.get("resultType") == "scalar":
        return int(_finite(result[1]))
    return 0


def run_prometheus(prometheus_url: str, query: Query, values: dict[str, str], window: Window) -> Result:
    expr = promql.fill(query.expr, values)
    if query.kind == "variable":
        match = promql.LABEL_VALUES.match(expr)
        assert match, expr
        answer = http_json(
            f"{prometheus_url}/api/v1/label/{match['label']}/values",
            {"match[]": match["selector"], "start": window.start, "end": window.end},
        )
        ok = answer.get("status") == "success"
        return Result(ok, len(answer.get("data") or []), answer.get("error", ""), answer.get("data"))
    if query.instant:
        answer = http_json(f"{prometheus_url}/api/v1/query", {"query": expr, "time": window.end})
    else:
        step = "1m" if query.kind == "annotation" else window.step  # Grafana uses the annotation's `step`
        if query.kind == "annotation" and query.target:
            step = query.target.get("step", step)
        end = window.end
        if query.kind == "annotation":
            # Grafana keeps evaluating annotations as "now" moves on; one more step after the window's end makes
            # sure a step lands after the last change even when the whole run fits inside one step (a fast machine)
            end += 60
        answer = http_json(
            f"{prometheus_url}/api/v1/query_range", {"query": expr, "start": window.start, "end": end, "step": step}
        )
    ok = answer.get("status") == "success"
    samples = count_samples(answer.get("data") or {}) if ok else 0
    return Result(ok, samples, answer.get("error", "") if not ok else f"{samples} finite samples", answer.get("data"))


def run_exemplars(prometheus_url: str, query: Query, values: dict[str, str], window: Window) -> list[str]:
    """Trace ids of the exemplars Grafana would draw on an exemplar-enabled panel."""
    expr = promql.fill(query.expr, values)
    answer = http_json(
        f"{prometheus_url}/api/v1/query_exemplars", {"query": expr, "start": window.start, "end": window.end}
    )
    assert answer.get("status") == "success", answer
    return [
        exemplar["labels"]["trace_id"]
        for series in answer.get("data") or []
        for exemplar in series.get("exemplars", [])
        if "trace_id" in exemplar.get("labels", {})
    ]


def logfmt_tags(tags: str) -> dict[str, str]:
    """Grafana's Jaeger `tags` field (logfmt `k=v k2="v 2"`) -> the JSON object Jaeger's search API takes."""
    out: dict[str, str] = {}
    for key, quoted, bare in re.findall(r'([^\s=]+)=(?:"([^"]*)"|(\S*))', tags):
        out[key] = quoted or bare
    return out


def run_jaeger(jaeger_url: str, query: Query, values: dict[str, str], window: Window) -> Result:
    target = query.target or {}
    params = {
        "service": promql.fill(target.get("service", ""), values),
        "tags": json.dumps(logfmt_tags(promql.fill(target.get("tags", ""), values))),
        "limit": target.get("limit", 20),
        "start": int(window.start * 1e6),
        "end": int(window.end * 1e6),
    }
    if target.get("operation"):
        params["operation"] = promql.fill(target["operation"], values)
    answer = http_json(f"{jaeger_url}/api/traces", params)
    traces = answer.get("data") or []
    ok = not answer.get("errors")
    return Result(ok, len(traces), json.dumps(answer.get("errors")) if not ok else f"{len(traces)} traces", traces)


def jaeger_trace(jaeger_url: str, trace_id: str) -> list[dict[str, Any]]:
    return http_json(f"{jaeger_url}/api/traces/{trace_id}").get("data") or []
