"""Static checks of the Grafana dashboards (no Grafana can run here): JSON structure, generated == committed, every
metric and label a query uses is documented and emitted, PromQL parses (promtool), provisioning cross-references.

The live check (every query against a real Prometheus filled by a real agent run) is test_dashboards_live.py.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from . import _catalog as catalog
from . import _promql as promql
from ._dashboards import (
    DASHBOARDS,
    JSON_DIR,
    Query,
    all_panels,
    all_queries,
    dashboards,
    provisioned_datasources,
    provisioning,
    queries_of,
    variable_values,
)

BOARDS = dashboards()
PROM_QUERIES = [q for q in all_queries() if q.kind in ("prometheus", "annotation", "variable")]
REQUIRED_VARIABLES = {"datasource", "service", "agent", "model"}


def _generate_module() -> Any:
    spec = importlib.util.spec_from_file_location("otel_agent_dashboards_generate", DASHBOARDS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module while the file executes
    spec.loader.exec_module(module)
    return module


def _promql_of(query: Query) -> str:
    """The PromQL of a query, with variables filled (label_values(selector, label) -> the selector)."""
    board = next(b for b in BOARDS.values() if b["uid"] == query.dashboard)
    expr = promql.fill(query.expr, variable_values(board))
    if query.kind == "variable":
        match = promql.LABEL_VALUES.match(expr)
        assert match, f"{query.id}: variable query is not label_values(selector, label): {query.expr}"
        return match["selector"]
    return expr


# --- generated, not hand-edited ----------------------------------------------------------------------------------
def test_dashboards_exist() -> None:
    assert len(BOARDS) == 5, sorted(BOARDS)


def test_generate_output_equals_committed_json(tmp_path: Path) -> None:
    generate = _generate_module()
    rendered = generate.render()
    assert sorted(rendered) == sorted(BOARDS), "dashboards/json holds files generate.py does not write (or misses some)"
    for name, text in rendered.items():
        committed = (JSON_DIR / name).read_text(encoding="utf-8")
        assert committed == text, f"dashboards/json/{name} differs from `python dashboards/generate.py` output"
    assert generate.main(["--out", str(tmp_path)]) == 0
    assert generate.main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "gpu.json").write_text("{}", encoding="utf-8")
    assert generate.main(["--check", "--out", str(tmp_path)]) == 1


# --- structure ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_top_level(name: str) -> None:
    board = BOARDS[name]
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"]), board.get("uid")
    assert board["title"].startswith("otel-agent / ")
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert board["time"] == {"from": "now-6h", "to": "now"}
    assert board["panels"], "no panels"
    assert board["editable"] is False
    assert isinstance(board["annotations"]["list"], list) and board["annotations"]["list"]
    assert isinstance(board["templating"]["list"], list)


def test_dashboard_uids_and_titles_are_unique() -> None:
    assert len({b["uid"] for b in BOARDS.values()}) == len(BOARDS)
    assert len({b["title"] for b in BOARDS.values()}) == len(BOARDS)


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_variables(name: str) -> None:
    board = BOARDS[name]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert REQUIRED_VARIABLES <= set(variables), f"missing variables: {REQUIRED_VARIABLES - set(variables)}"
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    for var in ("service", "agent", "model"):
        v = variables[var]
        assert v["type"] == "query" and v["multi"] and v["includeAll"] and v["allValue"] == ".*", var
        assert v["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, var
        assert promql.LABEL_VALUES.match(v["query"]), v["query"]
    for v in variables.values():
        if v["type"] == "query":
            ds_var = re.fullmatch(r"\$\{?(\w+)\}?", v["datasource"]["uid"])
            assert ds_var and variables[ds_var[1]]["type"] == "datasource", v["name"]
    # every variable is used somewhere (a panel, an annotation or another variable)
    text = "\n".join(
        [str(p.get("targets", "")) + str(p.get("datasource", "")) + p.get("description", "") for p in all_panels(board)]
        + [str(board["annotations"]), str(board["templating"])]
    )
    for var in variables:
        used = [m for m in re.findall(r"\$\{?(\w+)", text) if m == var]
        assert used, f"variable ${var} is defined but never used"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels(name: str) -> None:
    board = BOARDS[name]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    panels = all_panels(board)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert all(isinstance(i, int) and i > 0 for i in ids)
    cells: dict[tuple[int, int], str] = {}
    for panel in panels:
        where = f"{name} panel {panel['id']} {panel.get('title')!r}"
        grid = panel["gridPos"]
        assert {"h", "w", "x", "y"} <= set(grid), where
        assert grid["w"] > 0 and grid["h"] > 0 and 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, where
        for x in range(grid["x"], grid["x"] + grid["w"]):  # no two panels overlap
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{where} overlaps {cells[(x, y)]}"
                cells[(x, y)] = where
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel.get("description"), where
        # the datasource is a variable of the right type, never a hard-coded uid
        ds = panel["datasource"]
        match = re.fullmatch(r"\$\{(\w+)\}", ds["uid"])
        assert match, f"{where}: datasource uid {ds['uid']!r} does not reference a variable"
        variable = variables.get(match[1])
        assert variable and variable["type"] == "datasource" and variable["query"] == ds["type"], where
        assert panel["targets"], f"{where}: no targets"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert all(ref_ids) and len(ref_ids) == len(set(ref_ids)), where
        for target in panel["targets"]:
            assert target.get("datasource", ds) == ds, f"{where}: target datasource differs from the panel's"
            if ds["type"] == "prometheus":
                assert target["expr"].strip(), where
            else:
                assert target["queryType"] == "search" and target["service"] and target["tags"], where
        unit = panel["fieldConfig"]["defaults"].get("unit")
        assert unit, f"{where}: no unit"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_units_are_meaningful(name: str) -> None:
    """Money is USD, times are seconds, token counts say tokens: judged from the query's metric."""
    for panel in all_panels(BOARDS[name]):
        if panel["type"] == "row" or panel["datasource"]["type"] != "prometheus":
            continue
        unit = panel["fieldConfig"]["defaults"]["unit"]
        exprs = " ".join(t["expr"] for t in panel["targets"])
        title = panel["title"].lower()
        if any(word in title for word in ("share", "ratio", "success rate", "utilization")):
            assert unit == "percentunit", (name, panel["title"], unit)
        elif any(word in title for word in ("cost", "spend", "price")):
            assert unit == "currencyUSD", (name, panel["title"], unit)
        elif "time p50" in title:
            assert unit == "s", (name, panel["title"], unit)
        elif "tokens" in title and "score" not in title:
            assert "tokens" in unit, (name, panel["title"], unit)
        assert exprs


def test_stat_and_table_panels_are_instant_and_time_series_are_ranges() -> None:
    for board in BOARDS.values():
        for panel in all_panels(board):
            if panel["type"] in ("stat", "bargauge", "table") and panel["datasource"]["type"] == "prometheus":
                assert all(t.get("instant") for t in panel["targets"]), panel["title"]
            if panel["type"] == "timeseries":
                assert all(t.get("range") and not t.get("instant") for t in panel["targets"]), panel["title"]


def test_issue_coverage() -> None:
    """The panels the issue asks for exist (by query content, so renaming a title does not hide a gap)."""
    exprs = {b["uid"]: " ".join(q.expr for q in queries_of(b)) for b in BOARDS.values()}
    overview, wasted = exprs["otel-agent-overview"], exprs["otel-agent-wasted-turns"]
    escalation, cost, gpu = exprs["otel-agent-escalations"], exprs["otel-agent-cost"], exprs["otel-agent-gpu"]
    for needle in (
        "otel_agent_runs_total",
        'otel_agent_run_outcome="success"',
        "otel_agent_run_duration_seconds_bucket",
        "otel_agent_run_turns_",
        "otel_agent_run_tokens_sum",
        "otel_agent_run_cost_sum",
        "otel_agent_run_score_sum",
        "otel_agent_gpu_vram_time_total",
    ):
        assert needle in overview, needle
    for needle in (
        'otel_agent_turn_wasted="true"',
        "by (otel_agent_turn_waste_reason)",
        "otel_agent_context_resent_tokens_total",
        "gen_ai_agent_name, gen_ai_request_model",
    ):
        assert needle in wasted, needle
    for needle in (
        "otel_agent_escalations_total",
        "otel_agent_escalation_from_model",
        "otel_agent_escalation_reason",
        'otel_agent_run_missed_escalation="true"',
        "label_replace",
    ):
        assert needle in escalation, needle
    for needle in (
        "offset 1d",
        'otel_agent_cost_component="reasoning"',
        "otel_agent_model_list_price",
        'otel_agent_run_outcome="success"',
        "otel_agent_run_cost_sum",
    ):
        assert needle in cost, needle
    for needle in ("otel_agent_gpu_vram_time_total", "hw_gpu_utilization_ratio", "hw_gpu_memory_usage_bytes"):
        assert needle in gpu, needle
    annotations = BOARDS["escalation-points.json"]["annotations"]["list"]
    assert any("otel_agent_escalations_total" in a.get("expr", "") for a in annotations)
    wasted_traces = [q for q in queries_of(BOARDS["wasted-turns.json"]) if q.kind == "jaeger"]
    assert wasted_traces and any(q.exemplar for q in queries_of(BOARDS["wasted-turns.json"]))


def test_approximations_are_stated() -> None:
    for board in BOARDS.values():
        for panel in all_panels(board):
            exprs = " ".join(t.get("expr", "") for t in panel.get("targets", []))
            if "label_replace" in exprs or "* on (" in exprs:
                assert "pproximat" in panel["description"], panel["title"]


# --- every metric and label is documented and emitted -----------------------------------------------------------
@pytest.mark.parametrize("query", PROM_QUERIES, ids=lambda q: q.id)
def test_query_names_are_documented_and_emitted(query: Query) -> None:
    parsed = promql.parse(_promql_of(query))
    assert parsed.selectors, f"{query.id}: no metric selector"
    doc_series, code_series = catalog.doc_series(), catalog.code_series()
    code_labels, values = catalog.code_labels(), catalog.doc_attribute_values()
    allowed_anywhere: set[str] = set(catalog.GLOBAL_LABELS) | parsed.function_labels
    for selector in parsed.selectors:
        metric = selector.metric
        assert metric, f"{query.id}: selector without a metric name"
        assert metric in doc_series, f"{query.id}: {metric} is not a Prometheus name docs/attributes.md lists"
        assert metric in code_series, f"{query.id}: {metric} is not emitted by names.ALL_METRICS"
        doc = doc_series[metric]
        spec = code_series[metric]
        assert spec.name == doc.name, (metric, spec.name, doc.name)
        allowed = doc.labels | catalog.GLOBAL_LABELS
        allowed_anywhere |= doc.labels
        for label, op, value in selector.matchers:
            assert label in allowed, f"{query.id}: label {label} is not documented for {doc.name}"
            assert label in code_labels or label in catalog.GLOBAL_LABELS, f"{query.id}: {label} not in names.py"
            if label == "le":
                assert metric.endswith("_bucket"), f"{query.id}: le on {metric}"
            attribute = next((a for a in doc.attributes if catalog.prom(a) == label), None)
            vocabulary = values.get(attribute or "", set())
            if vocabulary and op in ("=", "!=") or vocabulary and op == "=~" and re.fullmatch(r"[a-z_|]+", value):
                for word in value.split("|"):
                    assert word in vocabulary, f"{query.id}: {label}={word!r} is not a documented value"
    for label in parsed.grouping_labels | promql.legend_labels(query.legend):
        assert label in allowed_anywhere, f"{query.id}: label {label} is not documented for the metrics it groups"


def test_catalog_translation_matches_the_documented_prometheus_names() -> None:
    """The translation rules used above give exactly the names docs/attributes.md writes in brackets."""
    for metric in catalog.doc_metrics().values():
        if metric.prometheus:
            spec = next(s for s in catalog.code_series().values() if s.name == metric.name)
            assert metric.prometheus in catalog.prometheus_names_of(spec), metric.name


def test_variable_queries_use_label_values_of_documented_labels() -> None:
    for query in (q for q in PROM_QUERIES if q.kind == "variable"):
        match = promql.LABEL_VALUES.match(query.expr)
        assert match
        metric = promql.parse(match["selector"]).selectors[0].metric
        assert match["label"] in catalog.doc_series()[metric].labels | catalog.GLOBAL_LABELS, query.id


# --- PromQL parses with the real parser -------------------------------------------------------------------------------
def test_queries_parse_with_promtool(tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus)")
    exprs = [_promql_of(q) for q in PROM_QUERIES] + [
        promql.fill(q, {"__tags": 'service_name="x"'}) for q in _traces_to_metrics_queries()
    ]
    rules = {
        "groups": [
            {
                "name": "dashboards",
                "rules": [{"record": f"dashboard:query:{i}", "expr": expr} for i, expr in enumerate(exprs)],
            }
        ]
    }
    path = tmp_path / "queries.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promql_extractor() -> None:
    parsed = promql.parse(
        'sum by (a) (rate(m_total{x="1", y=~"a|b"}[5m] offset 1d)) / on (a) group_left '
        'label_replace(max(n{z!="q"}), "dst", "$1", "src", "(.*)") or vector(0) unless k'
    )
    assert parsed.metrics == {"m_total", "n", "k"}
    assert parsed.selectors[0].matchers == [("x", "=", "1"), ("y", "=~", "a|b")]
    assert parsed.grouping_labels == {"a"}
    assert parsed.function_labels == {"dst", "src"}
    assert promql.fill("$a ${b} [[c]] $1 ${d:csv}", {"a": "1", "b": "2", "c": "3", "d": "4"}) == "1 2 3 $1 4"


# --- provisioning -----------------------------------------------------------------------------------------------------
def _traces_to_metrics_queries() -> list[str]:
    return [
        q["query"]
        for ds in provisioned_datasources()
        for q in ds.get("jsonData", {}).get("tracesToMetrics", {}).get("queries", [])
    ]


def test_provisioning_parses_and_is_complete() -> None:
    files = provisioning()
    assert "datasources/otel-agent.yaml" in files and "dashboards/otel-agent.yaml" in files, sorted(files)
    for name, doc in files.items():
        assert doc and doc.get("apiVersion") == 1, name
    providers = files["dashboards/otel-agent.yaml"]["providers"]
    assert len(providers) == 1 and providers[0]["type"] == "file" and providers[0]["options"]["path"]
    assert providers[0]["allowUiUpdates"] is False


def test_provisioned_datasources_link_to_each_other() -> None:
    by_type = {ds["type"]: ds for ds in provisioned_datasources()}
    assert set(by_type) == {"prometheus", "jaeger"}
    prom, jaeger = by_type["prometheus"], by_type["jaeger"]
    uids = [ds["uid"] for ds in provisioned_datasources()]
    assert len(uids) == len(set(uids))
    for ds in (prom, jaeger):
        assert ds["url"].startswith("http") and ds["access"] == "proxy" and ds["name"]
    destinations = prom["jsonData"]["exemplarTraceIdDestinations"]
    assert destinations == [{"name": "trace_id", "datasourceUid": jaeger["uid"]}]
    t2m = jaeger["jsonData"]["tracesToMetrics"]
    assert t2m["datasourceUid"] == prom["uid"]
    code_labels = catalog.code_labels() | catalog.GLOBAL_LABELS
    for tag in t2m["tags"]:
        assert catalog.prom(tag["key"]) == tag["value"], tag  # span attribute -> its Prometheus label
        assert tag["value"] in code_labels, tag
    for query in _traces_to_metrics_queries():
        parsed = promql.parse(promql.fill(query, {"__tags": 'service_name="x"'}))
        for metric in parsed.metrics:
            assert metric in catalog.doc_series() and metric in catalog.code_series(), metric


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboards_reference_provisioned_datasources(name: str) -> None:
    """Datasource variables default to a provisioned uid of their type; every panel's datasource type is provisioned."""
    board = BOARDS[name]
    provisioned = {ds["uid"]: ds["type"] for ds in provisioned_datasources()}
    for variable in board["templating"]["list"]:
        if variable["type"] == "datasource":
            uid = variable["current"]["value"]
            assert provisioned.get(uid) == variable["query"], (variable["name"], uid)
    types = set(provisioned.values())
    for panel in all_panels(board):
        if panel["type"] != "row":
            assert panel["datasource"]["type"] in types, panel["title"]
    for annotation in board["annotations"]["list"]:
        assert annotation["datasource"]["type"] in types | {"grafana"}, annotation["name"]


def test_readme_lists_every_dashboard_and_panel() -> None:
    readme = (DASHBOARDS / "README.md").read_text(encoding="utf-8")
    for board in BOARDS.values():
        assert board["title"] in readme, board["title"]
        for panel in all_panels(board):
            if panel["type"] != "row":
                assert panel["title"] in readme, f"{board['title']}: panel {panel['title']!r} missing from README"
