"""The node's generated configuration keeps the agreed address plan and the network rule
(fast: no root, nothing started). The `node` tests check the same things on a running node."""

import ipaddress
import json
import tomllib

import pytest

from questline_node import configs, images, node
from questline_node.settings import ALLOWED_RANGE, SERVICE_CIDR, SettingsError, load_node


@pytest.fixture
def s(tmp_path, monkeypatch):
    monkeypatch.setenv("QUESTLINE_NODE_STATE", str(tmp_path / "state"))
    return load_node()


def test_every_address_of_the_node_is_in_the_agreed_range(s):
    allowed = ipaddress.ip_network(ALLOWED_RANGE)
    for address in (s.node_ip, s.pod_gateway, s.dns_service_ip, s.kubernetes_service_ip):
        assert ipaddress.ip_address(address) in allowed
    for network in (s.pod_cidr, SERVICE_CIDR, s.node_cidr):
        assert ipaddress.ip_network(network).subnet_of(allowed)
    assert s.dns_service_ip == "198.19.0.10" and s.kubernetes_service_ip == "198.19.0.1"


def test_a_node_address_outside_the_node_range_is_refused(monkeypatch):
    monkeypatch.setenv("QUESTLINE_NODE_IP", "10.0.0.1")
    with pytest.raises(SettingsError, match="outside the node range"):
        load_node()


def test_the_pod_network_never_masquerades(s):
    conf = json.loads(configs.cni_conflist(s))
    bridge = conf["plugins"][0]
    assert bridge["type"] == "bridge" and bridge["ipMasq"] is False
    assert bridge["ipam"]["ranges"] == [[{"subnet": s.pod_cidr, "gateway": s.pod_gateway}]]


def test_containerd_pulls_only_from_the_node_registry(s):
    config = tomllib.loads(configs.containerd_config(s))
    cri = config["plugins"]["io.containerd.grpc.v1.cri"]
    assert cri["restrict_oom_score_adj"] is True
    assert cri["sandbox_image"].startswith(f"{s.registry}/")
    hosts = tomllib.loads(configs.hosts_toml(s))
    assert hosts["server"] == f"http://{s.registry}"
    assert list(hosts["host"]) == [f"http://{s.registry}"]


def test_kube_proxy_and_kubelet_stay_on_the_node_address(s):
    proxy = json.loads(configs.kube_proxy_config(s))
    assert proxy["mode"] == "iptables"
    assert proxy["nodePortAddresses"] == [f"{s.node_ip}/32"]
    assert proxy["iptables"]["localhostNodePorts"] is False
    kubelet = json.loads(configs.kubelet_config(s))
    assert kubelet["address"] == s.node_ip and kubelet["cgroupDriver"] == "cgroupfs"
    assert kubelet["resolvConf"] == ""  # no upstream resolver for pods
    assert kubelet["clusterDNS"] == [s.dns_service_ip]


def test_the_add_ons_render_with_every_placeholder_filled(s):
    refs = {name: f"{s.registry}/{image.ref}" for name, image in images.system_images(s).items()}
    rendered = node.addon_manifests(s, refs)
    assert "@{" not in rendered
    assert f"127.0.0.1:{s.http_port}" in rendered and "sendAnonymousUsage=false" in rendered
    corefile = rendered.split("Corefile: |", 1)[1].split("---", 1)[0]
    assert "forward" not in corefile and "kubernetes cluster.local" in corefile  # nothing resolved off the machine


@pytest.mark.parametrize(
    ("carried", "path"),
    [
        ("questline/game-api:1.0.0", "questline/game-api:1.0.0"),
        ("docker.io/library/busybox:1.36", "library/busybox:1.36"),
        ("quay.io/strimzi/operator:1.2.0", "strimzi/operator:1.2.0"),
        ("localhost:5000/questline/x:2", "questline/x:2"),
        ("questline/untagged", "questline/untagged:latest"),
    ],
)
def test_an_archive_lands_in_the_registry_under_its_name_without_the_registry_host(carried, path):
    assert images.registry_path(carried) == path
