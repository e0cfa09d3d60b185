"""Fixtures of the one-node cluster tests (marker `node`, `make test-node`; root).

The session starts a fresh node through the same CLI a person uses: `questline-node purge`
then `up` (QUESTLINE_NODE_REUSE=1: against the node already up, without purge or up). The
tests' own image (busybox from Debian + node-probe, built with buildah) is pushed into the
node's registry. The last module (test_z_lifecycle) stops, restarts and finally purges it.
"""

import os

import pytest
from nodelib import Kube, new_namespace, node_cli

from questline_node import images
from questline_node.settings import load_node


@pytest.fixture(scope="session")
def node_settings():
    if os.geteuid() != 0:
        pytest.fail("the node tests need root (network devices, iptables, containerd)", pytrace=False)
    if os.environ.get("QUESTLINE_NODE_REUSE") == "1":
        # Against the node already up (while working on a test): no purge, no up.
        return load_node()
    result = node_cli("purge")
    if result.returncode != 0:
        pytest.fail(f"questline-node purge failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    result = node_cli("up")
    if result.returncode != 0:
        pytest.fail(f"questline-node up failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}", pytrace=False)
    return load_node()


@pytest.fixture(scope="session")
def kube(node_settings) -> Kube:
    return Kube(node_settings)


@pytest.fixture(scope="session")
def test_image(node_settings) -> str:
    """127.0.0.1:5000/questline/node-test:<tag>: busybox (Debian's busybox-static) + node-probe."""
    return images.ensure(node_settings, images.test_image(node_settings))


@pytest.fixture
def namespace(kube):
    name = new_namespace(kube)
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)
