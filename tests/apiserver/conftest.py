"""Fixtures for the tests against the locally built kube-apiserver (marker `apiserver`).

The control plane is started through the same CLI a person uses (`questline-apiserver up`,
which builds the binaries once) and left running.
helm and the Strimzi CRDs come from tools/install.sh, shared with the chart tests.
"""

import subprocess
import sys
from pathlib import Path

import pytest
from apiserverlib import crd_established, new_namespace, wait_for
from kubernetes import config, dynamic

from questline_devkit.versions import repo_root
from questline_node import settings

ROOT = repo_root()
APISERVER_CLI = [str(Path(sys.executable).parent / "questline-apiserver")]


@pytest.fixture(scope="session")
def control_plane_settings():
    """Start (or reuse) the control plane; it is left running, like the local stack, because
    other test sessions may share it: `make apiserver-down` stops it."""
    result = subprocess.run([*APISERVER_CLI, "up"], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"questline-apiserver up failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    return settings.load()


@pytest.fixture(scope="session")
def api_client(control_plane_settings):
    return config.new_client_from_config(config_file=str(control_plane_settings.kubeconfig))


@pytest.fixture(scope="session")
def dyn(api_client):
    return dynamic.DynamicClient(api_client)


@pytest.fixture(scope="session")
def tools() -> dict[str, str]:
    """helm and the Strimzi CRDs, installed (once, cached) by the charts' tools script."""
    result = subprocess.run([str(ROOT / "tools" / "install.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"tools/install.sh failed:\n{result.stderr[-3000:]}", pytrace=False)
    return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)


@pytest.fixture(scope="session")
def strimzi_crd_files(tools) -> list[Path]:
    files = sorted((Path(tools["QUESTLINE_STRIMZI_SCHEMAS"]) / "crds").glob("*.yaml"))
    assert files, f"no Strimzi CRDs under {tools['QUESTLINE_STRIMZI_SCHEMAS']}/crds"
    return files


@pytest.fixture(scope="session")
def strimzi_crds(api_client, dyn, strimzi_crd_files) -> list[str]:
    """Apply the Strimzi CRDs (server-side, as `kubectl apply --server-side` would); return their names."""
    import yaml

    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    names = []
    for path in strimzi_crd_files:
        body = yaml.safe_load(path.read_text())
        dyn.server_side_apply(crds, body=body, field_manager="questline-tests", force_conflicts=True)
        names.append(body["metadata"]["name"])
    for name in names:
        wait_for(lambda name=name: crd_established(api_client, name), what=f"CRD {name} to be Established")
    # The dynamic client caches discovery: refresh it so the new kinds resolve.
    dyn.resources.invalidate_cache()
    return names


@pytest.fixture
def namespace(api_client) -> str:
    return new_namespace(api_client)
