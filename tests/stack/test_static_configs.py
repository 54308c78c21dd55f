"""Static checks of the collector/backend configs: every config validates with the binary that runs it, the
rules pass promtool (syntax and unit tests), the deploy files pin their images, and the names the configs and
rules use are the ones otel_agent/telemetry/names.py defines."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from otel_agent.telemetry import names as n

from ._support import tool

ROOT = Path(__file__).resolve().parents[2]
CDIR = ROOT / "collector"
COLLECTOR_CONFIGS = sorted((CDIR / "config").glob("*.yaml"))
RULES = CDIR / "rules" / "otel-agent-alerts.yaml"
RULE_TESTS = sorted((CDIR / "rules" / "tests").glob("*.yaml"))
ENV_REF = re.compile(r"\$\{env:([A-Z0-9_]+)(:-[^}]*)?\}")


def run(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=cwd, env={**os.environ, **(env or {})})


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [strip_nulls(v) for v in value]
    return value


# --- the names contract -> Prometheus names --------------------------------------------------------------------------
_UNIT_SUFFIX = {"s": "seconds", "By": "bytes", "ms": "milliseconds"}


def prometheus_names(spec: n.MetricSpec) -> set[str]:
    """Series names the collector's prometheus exporter gives a metric of names.py (backends.md translation)."""
    base = spec.name.replace(".", "_")
    unit = spec.unit
    if unit and not unit.startswith("{"):
        suffix = _UNIT_SUFFIX.get(unit, "ratio" if unit == "1" and spec.kind == "gauge" else unit)
        if not base.endswith(f"_{suffix}"):
            base = f"{base}_{suffix}"
    if spec.kind == "counter":
        return {f"{base}_total"}
    if spec.kind == "histogram":
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    return {base}


CONTRACT_SERIES = set().union(*(prometheus_names(spec) for spec in n.ALL_METRICS))
SPANMETRICS_SERIES = {
    "traces_span_metrics_calls_total",
    "traces_span_metrics_duration_seconds_bucket",
    "traces_span_metrics_duration_seconds_sum",
    "traces_span_metrics_duration_seconds_count",
}


def contract_label(attribute: str) -> str:
    return attribute.replace(".", "_")


CONTRACT_LABELS = (
    {contract_label(a) for a in n.all_genai_names()}
    | {contract_label(v) for k, v in vars(n).items() if k.isupper() and isinstance(v, str) and "." in v}
    | {"service_name", "job", "instance", "le"}
)


def test_translation_examples_match_backends_notes() -> None:
    assert prometheus_names(n.M_COST) == {"otel_agent_cost_total"}
    assert prometheus_names(n.M_TOKENS) == {"otel_agent_tokens_total"}
    assert "gen_ai_client_operation_duration_seconds_bucket" in prometheus_names(n.M_OPERATION_DURATION)
    assert prometheus_names(n.M_HW_GPU_UTILIZATION) == {"hw_gpu_utilization_ratio"}


# --- collector configs ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("config", COLLECTOR_CONFIGS, ids=lambda p: p.name)
def test_collector_config_validates(config: Path, collector_bin: Path) -> None:
    result = run([str(collector_bin), "validate", f"--config={config}"])
    assert result.returncode == 0, result.stderr + result.stdout


def test_validate_rejects_a_broken_config(collector_bin: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((CDIR / "config" / "single-node.yaml").read_text().replace("unit: s", "unit: hours"))
    assert run([str(collector_bin), "validate", f"--config={broken}"]).returncode != 0


@pytest.mark.parametrize("config", [*COLLECTOR_CONFIGS, CDIR / "jaeger.yaml"], ids=lambda p: p.name)
def test_every_env_reference_has_a_default(config: Path) -> None:
    refs = ENV_REF.findall(config.read_text())
    assert refs, "configs take their addresses from ${env:VAR:-default}"
    assert [var for var, default in refs if not default] == []


def test_runner_sets_only_variables_the_configs_read() -> None:
    runner = (ROOT / "otel_agent_tools" / "stack" / "runner.py").read_text()
    set_by_runner = set(re.findall(r'"((?:OTEL_AGENT|JAEGER)_[A-Z0-9_]+)"', runner))
    read = {var for path in [*COLLECTOR_CONFIGS, CDIR / "jaeger.yaml"] for var, _ in ENV_REF.findall(path.read_text())}
    assert (
        set_by_runner
        - read
        - {"OTEL_AGENT_COLLECTOR_DIR", "OTEL_AGENT_STACK_DIR", "OTEL_AGENT_COLLECTOR_BIN", "OTEL_AGENT_JAEGER_BIN"}
        - {"OTEL_AGENT_DASHBOARDS_DIR", "OTEL_AGENT_BUILD_DIR"}
        == set()
    )


def test_spanmetrics_dimensions_are_contract_attributes() -> None:
    g = n.GenAINames.resolve(latest=False)
    expected = [g.operation, g.request_model, g.agent_name, n.TURN_WASTED]
    for name in ("single-node.yaml", "agent.yaml", "production.yaml"):
        connector = load(CDIR / "config" / name)["connectors"]["span_metrics"]
        assert [d["name"] for d in connector["dimensions"]] == expected, name
        assert connector["histogram"]["unit"] == "s"
        assert int(str(connector["aggregation_cardinality_limit"]).split(":-")[-1].rstrip("}")) > 0


def test_gateway_keeps_the_runs_worth_keeping() -> None:
    policies = {p["name"]: p for p in load(CDIR / "config" / "gateway.yaml")["processors"]["tail_sampling"]["policies"]}
    assert policies["wasted"]["boolean_attribute"] == {"key": n.TURN_WASTED, "value": True}
    assert policies["escalated"]["numeric_attribute"] == {"key": n.RUN_ESCALATIONS, "min_value": 1}
    assert n.RUN_COST in policies["expensive"]["ottl_condition"]["span"][0]
    assert policies["failed-status"]["status_code"]["status_codes"] == ["ERROR"]
    assert policies["failed-outcome"]["string_attribute"] == {"key": n.RUN_OUTCOME, "values": ["failure"]}
    assert policies["long"]["type"] == "latency"
    assert policies["baseline"]["type"] == "probabilistic"


def test_agent_routes_by_trace_and_computes_span_metrics_before_sampling() -> None:
    agent = load(CDIR / "config" / "agent.yaml")
    assert agent["exporters"]["load_balancing"]["routing_key"] == "traceID"
    traces = agent["service"]["pipelines"]["traces"]
    assert set(traces["exporters"]) == {"span_metrics", "load_balancing"}
    assert "tail_sampling" not in agent.get("processors", {})


def test_production_receivers_require_tls_and_a_bearer_token() -> None:
    prod = load(CDIR / "config" / "production.yaml")
    for protocol in ("grpc", "http"):
        receiver = prod["receivers"]["otlp"]["protocols"][protocol]
        assert receiver["tls"]["cert_file"] and receiver["tls"]["key_file"]
        assert receiver["auth"]["authenticator"] == "bearertokenauth"
    assert "bearertokenauth" in prod["service"]["extensions"]


def test_builder_manifest_pins_one_release() -> None:
    manifest = load(CDIR / "builder-config.yaml")
    mods = [
        entry["gomod"]
        for kind in ("receivers", "processors", "connectors", "exporters", "extensions")
        for entry in manifest[kind]
    ]
    assert all(mod.endswith(" v0.159.0") for mod in mods), mods
    assert all(entry["gomod"].endswith(" v1.65.0") for entry in manifest["providers"])


# --- nothing accepted is held only in memory ----------------------------------------------------------------------------
PUSH_EXPORTERS = ("otlp", "otlp_grpc", "otlphttp", "otlp_http", "load_balancing")


def _pipeline_configs() -> list[tuple[str, dict[str, Any]]]:
    helm = strip_nulls(load(CDIR / "deploy" / "helm" / "values.yaml")["config"])
    return [(path.name, load(path)) for path in COLLECTOR_CONFIGS] + [("helm values", helm)]


@pytest.mark.parametrize("name,config", _pipeline_configs(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_push_exporter_has_a_bounded_persistent_queue_that_batches(name: str, config: dict[str, Any]) -> None:
    pushing = {key: value for key, value in config["exporters"].items() if key.split("/")[0] in PUSH_EXPORTERS}
    assert pushing, name
    for key, exporter in pushing.items():
        queue = exporter["sending_queue"]
        storage = queue["storage"]
        assert storage in config["extensions"] and storage in config["service"]["extensions"], (name, key)
        assert config["extensions"][storage]["max_size"], f"{name}: the queue's disk is bounded"
        assert queue["sizer"] == "items" and queue["queue_size"], (name, key)
        assert "batch" in queue, f"{name}/{key}: batching inside the queue"
        assert exporter["retry_on_failure"]["max_elapsed_time"] == 0, f"{name}/{key}: never drop what is on disk"


@pytest.mark.parametrize("name,config", _pipeline_configs(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_batch_processor_holds_spans_in_memory_in_front_of_the_queue(name: str, config: dict[str, Any]) -> None:
    for pipeline, spec in config["service"]["pipelines"].items():
        assert not any(p.split("/")[0] == "batch" for p in spec.get("processors", [])), (name, pipeline)
    assert "batch" not in (config.get("processors") or {}), name


def test_helm_keeps_each_replicas_queue_on_its_own_volume() -> None:
    values = load(CDIR / "deploy" / "helm" / "values.yaml")
    assert values["mode"] == "statefulset"
    claims = {claim["metadata"]["name"] for claim in values["statefulset"]["volumeClaimTemplates"]}
    mounts = {mount["name"]: mount["mountPath"] for mount in values["extraVolumeMounts"]}
    env = {e["name"]: e.get("value") for e in values["extraEnvs"]}
    assert mounts["queue"] == env["OTEL_AGENT_QUEUE_DIR"] and "queue" in claims


def test_compose_keeps_data_in_volumes_and_prometheus_lifecycle_off() -> None:
    compose = load(CDIR / "deploy" / "docker-compose.yaml")
    services = compose["services"]
    assert "collector-queue:/var/lib/otelcol/queue" in services["collector"]["volumes"]
    assert services["collector"]["environment"]["OTEL_AGENT_QUEUE_DIR"] == "/var/lib/otelcol/queue"
    assert "jaeger-data:/var/lib/jaeger" in services["jaeger"]["volumes"]
    assert services["jaeger"]["environment"]["JAEGER_BADGER_DIR"] == "/var/lib/jaeger"
    assert "--web.enable-lifecycle" not in services["prometheus"]["command"]
    assert set(compose["volumes"]) == {"collector-queue", "jaeger-data", "prometheus-data", "alertmanager-data"}


def test_runner_enables_prometheus_lifecycle_only_when_asked(tmp_path: Path) -> None:
    from otel_agent_tools.stack import Binaries, Stack

    fake = Path("/bin/true")
    fakes = Binaries(collector=fake, jaeger=fake, prometheus=fake, alertmanager=fake)
    default = Stack(tmp_path / "a", binaries=fakes).processes["prometheus"].argv
    asked = Stack(tmp_path / "b", binaries=fakes, prometheus_lifecycle=True).processes["prometheus"].argv
    assert "--web.enable-lifecycle" not in default
    assert "--web.enable-lifecycle" in asked


def test_runner_keeps_every_piece_of_data_under_its_workdir(tmp_path: Path) -> None:
    from otel_agent_tools.stack import SCALE_OUT, Binaries, Stack

    fake = Path("/bin/true")
    stack = Stack(
        tmp_path, topology=SCALE_OUT, binaries=Binaries(collector=fake, jaeger=fake, prometheus=fake, alertmanager=fake)
    )
    queues = {
        name: proc.env["OTEL_AGENT_QUEUE_DIR"]
        for name, proc in stack.processes.items()
        if "OTEL_AGENT_QUEUE_DIR" in proc.env
    }
    assert set(queues) == {"collector", "gateway0", "gateway1"}
    assert len(set(queues.values())) == 3  # one bbolt file set per collector: they lock their files
    assert all(Path(q).parent == tmp_path / "queue" for q in queues.values())
    assert stack.processes["jaeger"].env["JAEGER_BADGER_DIR"] == str(tmp_path / "jaeger-data")
    argv = " ".join(stack.processes["prometheus"].argv + stack.processes["alertmanager"].argv)
    assert f"--storage.tsdb.path={tmp_path / 'prometheus-data'}" in argv
    assert f"--storage.path={tmp_path / 'alertmanager-data'}" in argv


# --- Jaeger ---------------------------------------------------------------------------------------------------------------
JAEGER_CONFIGS = [CDIR / "jaeger.yaml", *sorted((CDIR / "jaeger").glob("*.yaml"))]


@pytest.mark.parametrize("config", JAEGER_CONFIGS, ids=lambda p: p.name)
def test_jaeger_config_validates(jaeger_bin: Path, config: Path) -> None:
    result = run([str(jaeger_bin), "validate", f"--config={config}"])
    assert result.returncode == 0, result.stderr + result.stdout


def test_jaeger_cluster_configs_differ_only_in_the_storage_backend() -> None:
    base = load(CDIR / "jaeger.yaml")
    for path in JAEGER_CONFIGS[1:]:
        config = load(path)
        backends = config["extensions"]["jaeger_storage"]["backends"]["traces_store"]
        assert set(backends) & {"opensearch", "elasticsearch", "cassandra", "clickhouse"}, path.name
        config["extensions"]["jaeger_storage"] = base["extensions"]["jaeger_storage"]
        assert config == base, path.name


def test_jaeger_stores_on_disk_and_answers_after_writing() -> None:
    config = load(CDIR / "jaeger.yaml")
    badger = config["extensions"]["jaeger_storage"]["backends"]["traces_store"]["badger"]
    assert badger["ephemeral"] is False and "JAEGER_BADGER_TTL" in badger["ttl"]["spans"]
    assert "processors" not in config["service"]["pipelines"]["traces"]
    assert config["exporters"]["jaeger_storage_exporter"]["queue"]["enabled"] is False


# --- Prometheus / Alertmanager ------------------------------------------------------------------------------------------------
def test_promtool_check_config() -> None:
    result = run([tool("promtool"), "check", "config", "prometheus.yml"], cwd=CDIR)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.parametrize("config", ["deploy/prometheus.yml", "deploy/prometheus-remote-write.yml"])
def test_promtool_check_config_of_compose_deployment(config: str) -> None:
    result = run([tool("promtool"), "check", "config", "--syntax-only", config], cwd=CDIR)
    assert result.returncode == 0, result.stderr + result.stdout


def test_promtool_check_rules() -> None:
    result = run([tool("promtool"), "check", "rules", str(RULES)])
    assert result.returncode == 0, result.stderr + result.stdout


def test_promtool_rule_unit_tests() -> None:
    assert RULE_TESTS
    result = run([tool("promtool"), "test", "rules", *map(str, RULE_TESTS)])
    assert result.returncode == 0, result.stderr + result.stdout


def test_rule_tests_include_cases_that_must_not_fire() -> None:
    silent = [
        case["name"]
        for path in RULE_TESTS
        for case in load(path)["tests"]
        if any(a.get("exp_alerts") == [] for a in case.get("alert_rule_test", []))
    ]
    assert len(silent) >= 8, silent


def test_every_alert_has_a_unit_test_that_fires_it() -> None:
    alerts = {rule["alert"] for group in load(RULES)["groups"] for rule in group["rules"] if "alert" in rule}
    fired = {
        check["alertname"]
        for path in RULE_TESTS
        for case in load(path)["tests"]
        for check in case.get("alert_rule_test", [])
        if check.get("exp_alerts")
    }
    assert alerts - fired == set()


def test_rules_use_only_contract_metric_names_and_labels() -> None:
    rules = [rule for group in load(RULES)["groups"] for rule in group["rules"]]
    recorded = {rule["record"] for rule in rules if "record" in rule}
    for rule in rules:
        expr = rule["expr"]
        selectors_only = re.sub(r"\{[^}]*\}|\b(?:by|on)\s*\([^)]*\)", " ", expr)
        metrics = set(re.findall(r"\b((?:otel_agent|gen_ai|traces_span_metrics|hw)_[a-z0-9_]+)\b", selectors_only))
        assert metrics <= CONTRACT_SERIES | SPANMETRICS_SERIES | recorded, metrics - CONTRACT_SERIES
        labels = set(re.findall(r"\b([a-z_][a-z0-9_]*)\s*(?:=~|!=|!~|=)\s*\"", expr))
        labels |= {
            label.strip()
            for group in re.findall(r"\b(?:by|on)\s*\(([^)]*)\)", expr)
            for label in group.split(",")
            if label.strip()
        }
        assert labels <= CONTRACT_LABELS, labels - CONTRACT_LABELS


def test_fast_drift_rule_is_documented_and_guarded() -> None:
    rule = next(r for g in load(RULES)["groups"] for r in g["rules"] if r.get("alert") == "OtelAgentSpendDriftFast")
    assert rule["labels"]["window"] == "fast"
    assert "[1m]" in rule["expr"] and "[5m] offset 1m" in rule["expr"]
    assert "> 0\n" in rule["expr"] and "increase(otel_agent_cost_total[1m])) > 0.5" in rule["expr"]


def test_amtool_check_config() -> None:
    result = run([tool("amtool"), "check-config", str(CDIR / "alertmanager.yml")])
    assert result.returncode == 0, result.stderr + result.stdout


# --- deployment files -------------------------------------------------------------------------------------------------------
PINNED = re.compile(r"^[\w./-]+:(?!latest$)[\w][\w.-]*$")


def test_compose_file_pins_images_and_mounts_existing_files() -> None:
    compose_path = CDIR / "deploy" / "docker-compose.yaml"
    compose = load(compose_path)
    assert set(compose["services"]) == {"collector", "jaeger", "prometheus", "alertmanager"}
    for name, service in compose["services"].items():
        assert PINNED.match(service["image"]), f"{name}: image not pinned: {service['image']}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (compose_path.parent / source).exists(), f"{name}: {source} missing"
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name}: publish on loopback only ({port})"
    assert compose["services"]["collector"]["image"].endswith(":0.159.0")


def test_helm_values_pin_the_image() -> None:
    values = load(CDIR / "deploy" / "helm" / "values.yaml")
    image = values["image"]
    assert PINNED.match(f"{image['repository']}:{image['tag']}")
    assert image["tag"] == "0.159.0"
    assert values["mode"] in ("deployment", "daemonset", "statefulset")


def test_helm_config_equals_single_node_config() -> None:
    values = load(CDIR / "deploy" / "helm" / "values.yaml")
    assert strip_nulls(values["config"]) == load(CDIR / "config" / "single-node.yaml")


def test_helm_config_validates(collector_bin: Path, tmp_path: Path) -> None:
    config = tmp_path / "helm-config.yaml"
    config.write_text(yaml.safe_dump(strip_nulls(load(CDIR / "deploy" / "helm" / "values.yaml")["config"])))
    result = run([str(collector_bin), "validate", f"--config={config}"])
    assert result.returncode == 0, result.stderr + result.stdout


# --- the runner's rendered configs --------------------------------------------------------------------------------------------
def test_runner_renders_a_valid_prometheus_config(tmp_path: Path) -> None:
    from otel_agent_tools.stack import SCALE_OUT, Binaries, Stack

    fake = Path("/bin/true")
    stack = Stack(
        tmp_path / "run",
        topology=SCALE_OUT,
        gateways=2,
        fast=True,
        binaries=Binaries(collector=fake, jaeger=fake, prometheus=fake, alertmanager=fake),
    )
    rendered = stack.render_prometheus_config()
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in rendered["scrape_configs"]}
    assert jobs["otel-agent-collector"] == [f"127.0.0.1:{stack.ports['collector_metrics']}"]
    assert len(jobs["otel-agent-collector-internal"]) == 3  # agent + 2 gateways
    assert rendered["global"]["scrape_interval"] == "1s"
    assert all(Path(rule).is_absolute() and Path(rule).is_file() for rule in rendered["rule_files"])
    assert len(set(stack.ports.values())) == len(stack.ports)
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(rendered))
    result = run([tool("promtool"), "check", "config", str(path)])
    assert result.returncode == 0, result.stderr + result.stdout
    assert (
        stack.processes["collector"].env["OTEL_AGENT_GATEWAY_HOSTNAMES"] == f"[{', '.join(stack.endpoints.gateways)}]"
    )
