"""The kind cluster config, its pinned node image, and how this machine's lack of Docker is detected."""

import pytest
import yaml
from imagelib import REPO

from questline_devkit.versions import versions
from questline_kind import settings as kind_settings
from questline_kind import tools


@pytest.fixture(scope="module")
def cluster():
    return yaml.safe_load((REPO / "kind" / "cluster.yaml").read_text())


def test_the_cluster_is_named_as_the_kind_settings_expect(cluster):
    assert cluster["name"] == kind_settings.load().cluster_name
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4"


def test_an_ingress_ready_node_maps_the_hosts_http_and_https_ports(cluster):
    node = next(n for n in cluster["nodes"] if n.get("labels", {}).get("ingress-ready") == "true")
    mapped = {(m["containerPort"], m["hostPort"], m.get("protocol", "TCP")) for m in node["extraPortMappings"]}
    assert {(80, 80, "TCP"), (443, 443, "TCP")} <= mapped


def test_the_node_image_is_the_one_the_pinned_kind_release_defaults_to():
    assert versions()["kind"]["node_image"] == tools.kind_default_node_image(kind_settings.load())


def test_the_node_image_runs_the_kubernetes_version_the_charts_target():
    if "kubernetes" not in versions():
        pytest.skip("versions.toml has no [kubernetes] table yet (the charts issue adds it)")
    tag = versions()["kind"]["node_image"].split(":")[1].split("@")[0]
    assert tag == "v" + versions()["kubernetes"]["version"]


def test_an_unreachable_docker_engine_is_reported_as_such(monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    problem = tools.docker_engine_problem()
    assert problem is not None
    assert "not installed" in problem or "no Docker engine answers" in problem


def test_a_bad_timeout_setting_is_explained(monkeypatch):
    monkeypatch.setenv("QUESTLINE_SMOKE_TIMEOUT", "soon")
    with pytest.raises(kind_settings.SettingsError, match="QUESTLINE_SMOKE_TIMEOUT='soon' is not a number"):
        kind_settings.load()
