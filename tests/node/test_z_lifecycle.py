"""`node-down` then `node-up` keeps the cluster's objects; `node-down` leaves nothing on the
machine; `node-purge` removes everything. Runs last (it stops the node the other modules use)."""

import os
import subprocess

import pytest
from nodelib import new_namespace, node_cli, ready_pods, wait_for, web_deployment

from questline_node import network, node

pytestmark = pytest.mark.node


def _own_rules(snapshot: dict) -> list[str]:
    """Rules in or to chains of the node's components (other tools' CNI chains, e.g. podman's
    CNI-FORWARD made by buildah, are not the node's)."""
    own = []
    for rule in snapshot["rules"]:
        parts = rule.split()
        target = parts[parts.index("-j") + 1] if "-j" in parts else ""
        if network.OWN_CHAINS.match(parts[1]) or network.OWN_CHAINS.match(target):
            own.append(rule)
    return own


def _machine_snapshot(s) -> dict:
    """What `down` must put back as it was: links, iptables rules, the kernel settings the node changes."""
    links = sorted(p for p in os.listdir("/sys/class/net"))
    rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
    rules = sorted(line for line in rules.splitlines() if line.startswith("-A"))
    sysctls = {key: network._sysctl_path(key).read_text().strip() for key in network.SYSCTLS}
    return {"links": links, "rules": rules, "sysctl": sysctls}


@pytest.fixture(scope="module")
def before_node(node_settings):
    """The machine as the node found it, read from what `up` saved."""
    import json

    saved = json.loads((node_settings.config_dir / "sysctl-before.json").read_text())
    return saved


def test_down_then_up_brings_the_cluster_back_with_its_objects(kube, test_image, node_settings, before_node):
    s = node_settings
    namespace = new_namespace(kube)
    kube.run("-n", namespace, "create", "configmap", "keep-me", "--from-literal=answer=42")
    kube.apply(web_deployment("survivor", test_image, replicas=1), namespace)
    first = wait_for(lambda: ready_pods(kube, namespace, "app=survivor"), what="survivor ready", timeout=180)[0]

    result = node_cli("down")
    assert result.returncode == 0, result.stderr
    # Nothing of the node is left: no process, mount, netns, veth, bridge, iptables chain, cgroup.
    assert node.leftovers(s) == []
    snapshot = _machine_snapshot(s)
    assert not [link for link in snapshot["links"] if link in (s.node_bridge, s.pod_bridge) or link.startswith("veth")]
    assert not _own_rules(snapshot)
    assert snapshot["sysctl"] == before_node["sysctl"]
    assert not list(s.state_dir.glob("containerd/state/netns/*"))

    result = node_cli("up")
    assert result.returncode == 0, result.stderr
    assert f"export KUBECONFIG={s.kubeconfig}" in result.stdout
    assert kube.get("configmap", "keep-me", namespace)["data"] == {"answer": "42"}
    # The Deployment's pod runs again (the same pod object: the kubelet restarts its sandbox).
    again = wait_for(lambda: ready_pods(kube, namespace, "app=survivor"), what="survivor ready again", timeout=240)[0]
    assert again["metadata"]["namespace"] == first["metadata"]["namespace"]
    kube.run("delete", "namespace", namespace, "--wait=false")


def test_up_is_idempotent(node_settings):
    assert node_cli("up").returncode == 0
    result = node_cli("up")
    assert result.returncode == 0, result.stderr
    assert "starting" not in result.stderr + result.stdout
    report = node_cli("status")
    assert report.returncode == 0, report.stdout


def test_purge_removes_everything(node_settings, before_node):
    s = node_settings
    result = node_cli("purge")
    assert result.returncode == 0, result.stderr
    assert not s.state_dir.exists()
    assert node.leftovers(s) == []
    snapshot = _machine_snapshot(s)
    assert snapshot["sysctl"] == before_node["sysctl"]
    assert not _own_rules(snapshot)
