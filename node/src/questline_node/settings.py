"""Every setting of the local cluster, read from environment variables in one place.

Two ways to run the same binaries (docs/node.md):
- the **node** (`questline-node`): a whole one-node cluster (control plane, containerd,
  kubelet, kube-proxy, CoreDNS, storage, ingress, registry) on an address of its own;
- the **API server alone** (`questline-apiserver`): etcd + kube-apiserver on loopback, no
  root needed, for the chart install tests.
"""

import dataclasses
import getpass
import ipaddress
from pathlib import Path

from questline_devkit.artifacts import cache_dir
from questline_devkit.process import StateDirLayout, start_timeout
from questline_devkit.versions import repo_root, versions
from questline_settings import SettingsError, number, path, port, raw

__all__ = ["ApiserverSettings", "BuildSettings", "NodeSettings", "SettingsError", "load", "load_apiserver", "load_node"]

# The agreed address plan (docs/node.md); everything comes from 198.18.0.0/15.
ALLOWED_RANGE = "198.18.0.0/15"
POD_CIDR = "198.18.0.0/24"
SERVICE_CIDR = "198.19.0.0/20"
NODE_CIDR = "198.18.255.0/24"


@dataclasses.dataclass(frozen=True)
class BuildSettings:
    modules_dir: Path  # the wrapper Go modules in the repository (go.mod, go.sum, main.go)
    build_dir: Path  # binaries, GOPATH, GOCACHE, GOMODCACHE, image archives; kept between runs
    kubernetes_version: str
    etcd_version: str
    coredns_version: str
    registry_version: str
    local_path_version: str
    traefik_version: str
    cri_tools_version: str
    build_jobs: int

    @property
    def bin_dir(self) -> Path:
        return self.build_dir / "bin"

    def binary(self, name: str) -> Path:
        """bin/<name>-v<version>: a new pin builds a new file, an old binary is never taken for it."""
        return self.bin_dir / f"{name}-v{self.version_of(name)}"

    def version_of(self, name: str) -> str:
        return {
            "etcd": self.etcd_version,
            "coredns": self.coredns_version,
            "registry": self.registry_version,
            "local-path-provisioner": self.local_path_version,
            "traefik": self.traefik_version,
            "crictl": self.cri_tools_version,
            "pause": "1",
            "node-probe": "1",
        }.get(name, self.kubernetes_version)

    @property
    def kube_apiserver_binary(self) -> Path:
        return self.binary("kube-apiserver")

    @property
    def etcd_binary(self) -> Path:
        return self.binary("etcd")

    @property
    def kubectl_binary(self) -> Path:
        return self.binary("kubectl")

    @property
    def images_dir(self) -> Path:
        return self.build_dir / "images"


@dataclasses.dataclass(frozen=True)
class ApiserverSettings(BuildSettings, StateDirLayout):
    """etcd + kube-apiserver alone, on loopback."""

    state_dir: Path  # certificates, etcd data, logs, pids; `down --purge` removes it
    host: str  # where kube-apiserver listens
    advertise_address: str
    etcd_host: str
    apiserver_port: int
    etcd_client_port: int
    etcd_peer_port: int
    start_timeout: float
    context: str  # kubeconfig cluster and context name

    @property
    def pki_dir(self) -> Path:
        return self.state_dir / "pki"

    @property
    def etcd_data_dir(self) -> Path:
        return self.state_dir / "etcd"

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def server_url(self) -> str:
        return f"https://{self.host}:{self.apiserver_port}"

    @property
    def etcd_url(self) -> str:
        return f"http://{self.etcd_host}:{self.etcd_client_port}"

    @property
    def service_cidr(self) -> str:
        return SERVICE_CIDR

    @property
    def kubernetes_service_ip(self) -> str:
        return str(ipaddress.ip_network(SERVICE_CIDR)[1])


@dataclasses.dataclass(frozen=True)
class NodeSettings(ApiserverSettings):
    """The whole one-node cluster."""

    node_name: str
    node_ip: str
    registry_port: int
    http_port: int  # Traefik's web entry point on 127.0.0.1 (the Ingresses' port)
    ports_base: int  # kubelet, scheduler... health and metrics ports count up from here

    # Networks and devices (docs/node.md: the address plan).
    pod_cidr: str = POD_CIDR
    node_cidr: str = NODE_CIDR
    allowed_range: str = ALLOWED_RANGE
    node_bridge: str = "qlnode0"  # carries the node's own address, nothing else
    pod_bridge: str = "qlcni0"  # the CNI bridge of the pods
    fw_chain: str = "QUESTLINE-NODE-FWD"
    cluster_domain: str = "cluster.local"

    @property
    def pod_gateway(self) -> str:
        return str(ipaddress.ip_network(self.pod_cidr)[1])

    @property
    def dns_service_ip(self) -> str:
        return str(ipaddress.ip_network(SERVICE_CIDR)[10])

    @property
    def registry(self) -> str:
        return f"127.0.0.1:{self.registry_port}"

    def port(self, offset: int) -> int:
        return self.ports_base + offset

    # State layout: every component's files under state_dir.
    @property
    def containerd_dir(self) -> Path:
        return self.state_dir / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.containerd_dir / "containerd.sock"

    @property
    def kubelet_dir(self) -> Path:
        return self.state_dir / "kubelet"

    @property
    def cni_dir(self) -> Path:
        return self.state_dir / "cni"

    @property
    def registry_dir(self) -> Path:
        return self.state_dir / "registry"

    @property
    def local_path_dir(self) -> Path:
        return self.state_dir / "local-path"

    @property
    def config_dir(self) -> Path:
        return self.state_dir / "config"


def _build(table: dict) -> dict:
    cache = cache_dir()
    return dict(
        modules_dir=repo_root() / "node" / "go",
        build_dir=cache / "node",
        kubernetes_version=table["kubernetes_build"]["version"],
        etcd_version=table["etcd"]["version"],
        coredns_version=table["coredns"]["version"],
        registry_version=table["registry"]["version"],
        local_path_version=table["local_path_provisioner"]["version"],
        traefik_version=table["traefik"]["version"],
        cri_tools_version=table["cri_tools"]["version"],
        # The machine is shared: at most two compile jobs, niced (docs/node.md).
        build_jobs=number("QUESTLINE_GO_BUILD_JOBS", 2, low=1, high=2, unit="parallel compile jobs"),
    )


def load_build() -> BuildSettings:
    return BuildSettings(**_build(versions()))


def load_apiserver() -> ApiserverSettings:
    # A sibling of the local stack's state dir, not inside it: `questline-stack down --purge`
    # must not delete the data of a running etcd.
    return ApiserverSettings(
        **_build(versions()),
        state_dir=path("QUESTLINE_APISERVER_STATE", Path("/var/tmp") / f"questline-apiserver-{getpass.getuser()}"),
        host="127.0.0.1",
        advertise_address="127.0.0.1",
        etcd_host="127.0.0.1",
        # Clear of the local stack's ports and of the usual 6443/2379 of other clusters.
        apiserver_port=port("QUESTLINE_APISERVER_PORT", 16443),
        etcd_client_port=port("QUESTLINE_ETCD_CLIENT_PORT", 12379),
        etcd_peer_port=port("QUESTLINE_ETCD_PEER_PORT", 12380),
        start_timeout=start_timeout(),
        context="questline-local",
    )


def load_node() -> NodeSettings:
    node_ip = _node_ip()
    return NodeSettings(
        **_build(versions()),
        state_dir=path("QUESTLINE_NODE_STATE", Path("/var/tmp") / f"questline-node-{getpass.getuser()}"),
        # The API server listens on the node's own address (pods reach it there through the
        # `kubernetes` Service), never on the machine's real interfaces.
        host=node_ip,
        advertise_address=node_ip,
        etcd_host="127.0.0.1",
        apiserver_port=port("QUESTLINE_NODE_APISERVER_PORT", 6443),
        etcd_client_port=port("QUESTLINE_NODE_ETCD_CLIENT_PORT", 22379),
        etcd_peer_port=port("QUESTLINE_NODE_ETCD_PEER_PORT", 22380),
        start_timeout=start_timeout(),
        context="questline-node",
        node_name="questline-node",
        node_ip=node_ip,
        registry_port=port("QUESTLINE_NODE_REGISTRY_PORT", 5000),
        http_port=port("QUESTLINE_NODE_HTTP_PORT", 80),
        ports_base=number("QUESTLINE_NODE_PORTS_BASE", 20240, low=1024, high=65000),
    )


def _node_ip() -> str:
    value = raw("QUESTLINE_NODE_IP") or "198.18.255.1"
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise SettingsError(
            f"QUESTLINE_NODE_IP={value!r} is not an IPv4 address (expected one in {NODE_CIDR})"
        ) from None
    if address not in ipaddress.ip_network(NODE_CIDR) or address == ipaddress.ip_network(NODE_CIDR)[0]:
        raise SettingsError(f"QUESTLINE_NODE_IP={value!r} is outside the node range {NODE_CIDR}")
    return value


def load() -> ApiserverSettings:
    """The API-server-alone settings (what the chart install tests use)."""
    return load_apiserver()
