"""`deploy/grafana-dashboard.json` and `deploy/prometheus-alerts.yaml` ask only for what
`/metrics` exports (and show all of it); with Debian's `promtool` at hand, the rules load
and the main alerts fire on the series that should fire them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.app import TEST_BASE_URL

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana-dashboard.json"
ALERTS = ROOT / "deploy" / "prometheus-alerts.yaml"
NAME = re.compile(r"\b(tiktimer_[a-z0-9_]+)\b")


def require_promtool() -> None:
    """Skipped on a machine without Debian's `prometheus` package; under CI (which installs
    it in `.ci/run`) its absence fails the test instead."""
    if shutil.which("promtool") is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (.ci/run installs it)", pytrace=False)
        pytest.skip("promtool is not installed")


SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "gauge": ("",),
}


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def used_in(texts: list[str]) -> set[str]:
    return {name for text in texts for name in NAME.findall(text)}


async def exported(app: FastAPI) -> tuple[set[str], set[str]]:
    """(every sample name /metrics may carry, every tiktimer family it exports)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=TEST_BASE_URL) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    samples, families = set(), set()
    for family in text_string_to_metric_families(response.text):
        if family.name.startswith("tiktimer_"):
            families.add(family.name)
        samples.update(family.name + suffix for suffix in SUFFIXES.get(family.type, ("",)))
    return samples, families


def test_the_files_parse_and_every_panel_and_rule_has_an_expression() -> None:
    exprs = dashboard_exprs()
    rules = alert_rules()
    assert exprs
    assert all(e.strip() for e in exprs)
    assert {r["alert"] for r in rules} >= {
        "TikTimerPublishLagHigh",
        "TikTimerPublishFailureRate",
        "TikTimerNoWorkerHeartbeat",
        "TikTimerAccountsNeedReconnect",
    }
    assert all(r["expr"].strip() and r["annotations"]["summary"] for r in rules)


async def test_every_metric_named_is_one_metrics_exports(app: FastAPI) -> None:
    samples, families = await exported(app)
    named = used_in(dashboard_exprs()) | used_in([s for r in alert_rules() for s in strings(r)])
    assert named
    assert named - samples == set()
    # And the other way: every family we export is on the dashboard or in an alert.
    shown = {f for f in families if any(n == f or n.startswith(f + "_") for n in named)}
    assert families - shown == set()


def test_promtool_loads_the_rules() -> None:
    require_promtool()
    result = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def promtool_tests() -> dict[str, Any]:
    """Two API processes answering the same cluster figures (hence max, not sum): the
    workers stop beating, an account needs reconnecting."""
    rules = {r["alert"]: r for r in alert_rules()}

    def fired(name: str, summary: str, **labels: str) -> dict[str, Any]:
        annotations = {**rules[name]["annotations"], "summary": summary}
        annotations = {k: " ".join(v.split()) for k, v in annotations.items()}
        return {"exp_labels": {**rules[name]["labels"], **labels},
                "exp_annotations": annotations}  # fmt: skip

    reconnect = rules["TikTimerAccountsNeedReconnect"]["annotations"]["summary"]
    return {
        "rule_files": [str(ALERTS)],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": 'tiktimer_workers_live{instance="api1"}',
                        "values": "2 2 0 0 0 0 0 0",
                    },
                    {
                        "series": 'tiktimer_workers_live{instance="api2"}',
                        "values": "2 2 0 0 0 0 0 0",
                    },
                    {
                        "series": 'tiktimer_accounts{instance="api1",platform="tiktok",'
                        'status="reauth_required"}',
                        "values": "0 1x20",
                    },
                    {"series": 'tiktimer_cluster_scrape_ok{instance="api1"}', "values": "1x20"},
                ],  # fmt: skip
                "alert_rule_test": [
                    {"eval_time": "1m", "alertname": "TikTimerNoWorkerHeartbeat", "exp_alerts": []},
                    {
                        "eval_time": "5m",
                        "alertname": "TikTimerNoWorkerHeartbeat",
                        "exp_alerts": [
                            fired(
                                "TikTimerNoWorkerHeartbeat",
                                rules["TikTimerNoWorkerHeartbeat"]["annotations"]["summary"],
                            )
                        ],
                    },
                    {
                        "eval_time": "12m",
                        "alertname": "TikTimerAccountsNeedReconnect",
                        "exp_alerts": [
                            fired(
                                "TikTimerAccountsNeedReconnect",
                                reconnect.replace("{{ $value }}", "1").replace(
                                    "{{ $labels.platform }}", "tiktok"
                                ),
                                platform="tiktok",
                            )
                        ],
                    },
                    {
                        "eval_time": "12m",
                        "alertname": "TikTimerMetricsUnavailable",
                        "exp_alerts": [],
                    },
                ],  # fmt: skip
            }
        ],
    }


def test_promtool_fires_the_alerts_on_their_series(tmp_path: Path) -> None:
    require_promtool()
    tests = tmp_path / "alerts_test.yaml"
    tests.write_text(yaml.safe_dump(promtool_tests()))
    result = subprocess.run(
        ["promtool", "test", "rules", str(tests)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_the_readme_lists_every_family_and_nothing_else(app: FastAPI) -> None:
    samples, families = await exported(app)
    section = (ROOT / "README.md").read_text().split("## Metrics\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.strip().startswith("| `")]
    listed = {name for row in rows for name in NAME.findall(row)}
    assert listed - samples - families == set()  # a histogram is listed by its family name
    assert families - {f for f in families if any(n.startswith(f) for n in listed)} == set()
