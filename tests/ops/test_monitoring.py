"""ops/prometheus and ops/grafana, as docker-compose.yml mounts them: Prometheus scrapes the
API's metrics path, Grafana reaches that Prometheus, and every query of the dashboard names
a metric the app exports (read from the app's own ``/metrics``, not from a list kept here)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.support.metrics import scrape

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "ops" / "prometheus" / "prometheus.yml"
GRAFANA = ROOT / "ops" / "grafana"
DASHBOARDS = GRAFANA / "dashboards"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "orchestrator.yml"

# PromQL words that are neither metrics nor followed by "(".
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
KEYWORDS |= {"and", "or", "unless", "inf", "nan"}
# Suffixes of a family's samples, by type, as Prometheus names them.
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: not its functions and aggregations, its
    label names and values, its durations or its keywords."""
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    rest = re.sub(r"\{[^}]*\}", "", rest)
    rest = re.sub(r"\[[^\]]*\]", "", rest)
    rest = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", rest)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", rest):
        followed_by_call = rest[match.end() :].lstrip().startswith("(")
        if not followed_by_call and match.group().lower() not in KEYWORDS:
            names.add(match.group())
    return names


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def _compose() -> dict[str, Any]:
    services: dict[str, Any] = _yaml(ROOT / "docker-compose.yml")["services"]
    return services


def _dashboards() -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))]


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    panels = []
    for panel in dashboard["panels"]:
        panels += [panel, *panel.get("panels", [])]
    return [panel for panel in panels if panel["type"] != "row"]


def _exprs() -> list[str]:
    return [t["expr"] for d in _dashboards() for p in _panels(d) for t in p["targets"]]


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        ("orchestrator_webhooks_pending", {"orchestrator_webhooks_pending"}),
        (
            'histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket{x="y z"}[5m])))',
            {"a_seconds_bucket"},
        ),
        ('sum(a{s!~"p|d"}) by (name) / on (name) group_left sum without (s) (b)', {"a", "b"}),
        ("sum by (org) (increase(c_total[1h])) > 0 and d offset 5m", {"c_total", "d"}),
    ],
)
def test_metric_names_are_read_out_of_promql(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_every_dashboard_query_names_a_metric_the_app_exports(api: TestClient) -> None:
    page = scrape(api)
    exported = {
        family + suffix
        for family, kind in page.families.items()
        for suffix in SUFFIXES.get(kind, ("",))
    }
    exprs = _exprs()
    assert len(exprs) >= 20
    unknown = {name for expr in exprs for name in metric_names(expr)} - exported
    assert unknown == set(), f"the dashboard queries metrics the app does not export: {unknown}"
    used = {name for expr in exprs for name in metric_names(expr)}
    for quantile in (e for e in exprs if "histogram_quantile" in e):
        assert all(name.endswith("_bucket") for name in metric_names(quantile)), quantile
    assert {"orchestrator_call_creates_total", "orchestrator_campaign_contacts"} <= used


def test_every_panel_reads_the_provisioned_prometheus() -> None:
    (datasource,) = _yaml(DATASOURCES)["datasources"]
    assert datasource["type"] == "prometheus"
    for dashboard in _dashboards():
        for panel in _panels(dashboard):
            assert panel["targets"], panel["title"]
            uids = {panel["datasource"]["uid"]} | {t["datasource"]["uid"] for t in panel["targets"]}
            assert uids == {datasource["uid"]}, panel["title"]
    url = urlparse(datasource["url"])
    prometheus = _compose()["prometheus"]
    assert url.hostname == "prometheus"
    assert f"{url.port}:{url.port}" in prometheus["ports"]


def test_prometheus_scrapes_the_apis_metrics_path_at_the_composed_api(api: TestClient) -> None:
    (job,) = _yaml(PROMETHEUS)["scrape_configs"]
    served = api.get(job["metrics_path"])
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("text/plain; version=")
    (static,) = job["static_configs"]
    (target,) = static["targets"]
    host, port = target.split(":")
    services = _compose()
    assert f"--port {port}" in services[host]["command"]
    mounted = services["prometheus"]["volumes"]
    assert "./ops/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in mounted


def test_grafana_is_provisioned_from_ops_and_has_no_default_password() -> None:
    grafana = _compose()["grafana"]
    mounts = dict(volume.rsplit(":", 1)[0].split(":", 1) for volume in grafana["volumes"])
    assert mounts["./ops/grafana/provisioning"] == "/etc/grafana/provisioning"
    (provider,) = _yaml(PROVIDERS)["providers"]
    assert mounts["./ops/grafana/dashboards"] == provider["options"]["path"]
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (DASHBOARDS / Path(home).name).is_file()
    assert home.startswith(provider["options"]["path"] + "/")
    # ``${VAR:?message}``: compose refuses to start without it; no password is written here.
    assert grafana["environment"]["GF_SECURITY_ADMIN_PASSWORD"].startswith(
        "${GRAFANA_ADMIN_PASSWORD:?"
    )
    flower = _compose()["flower"]
    assert flower["environment"]["ORCH_FLOWER_BASIC_AUTH"].startswith("${ORCH_FLOWER_BASIC_AUTH:?")
    assert "ORCH_REDIS_URL" in flower["environment"], "the broker, from the shared environment"
