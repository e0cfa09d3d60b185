"""Every setting of the local control plane, read from environment variables in one place."""

import dataclasses
import getpass
from pathlib import Path

from questline_devkit.env import SettingsError, StateDirLayout, env_int, env_path, env_port
from questline_devkit.versions import repo_root, versions

__all__ = ["Settings", "SettingsError", "load"]


@dataclasses.dataclass(frozen=True)
class Settings(StateDirLayout):
    modules_dir: Path  # the wrapper Go modules in the repository (go.mod, go.sum, main.go)
    build_dir: Path  # binaries, GOPATH, GOCACHE, GOMODCACHE; kept between runs
    state_dir: Path  # certificates, etcd data, logs, pids; `down --purge` removes it
    host: str
    apiserver_port: int
    etcd_client_port: int
    etcd_peer_port: int
    kubernetes_version: str
    etcd_version: str
    build_jobs: int
    start_timeout: float

    @property
    def bin_dir(self) -> Path:
        return self.build_dir / "bin"

    @property
    def kube_apiserver_binary(self) -> Path:
        return self.bin_dir / f"kube-apiserver-v{self.kubernetes_version}"

    @property
    def etcd_binary(self) -> Path:
        return self.bin_dir / f"etcd-v{self.etcd_version}"

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
        return f"http://{self.host}:{self.etcd_client_port}"


def _default_state_dir() -> Path:
    # A sibling of the local stack's state dir, not inside it: `questline-stack down --purge`
    # must not delete the data of a running etcd.
    return Path("/var/tmp") / f"questline-apiserver-{getpass.getuser()}"


def load() -> Settings:
    cache = env_path("QUESTLINE_CACHE", Path.home() / ".cache" / "questline")
    table = versions()
    return Settings(
        modules_dir=repo_root() / "apiserver",
        build_dir=cache / "apiserver",
        state_dir=env_path("QUESTLINE_APISERVER_STATE", _default_state_dir()),
        host="127.0.0.1",
        # Clear of the local stack's ports and of the usual 6443/2379 of other clusters.
        apiserver_port=env_port("QUESTLINE_APISERVER_PORT", 16443),
        etcd_client_port=env_port("QUESTLINE_ETCD_CLIENT_PORT", 12379),
        etcd_peer_port=env_port("QUESTLINE_ETCD_PEER_PORT", 12380),
        kubernetes_version=table["kube_apiserver"]["version"],
        etcd_version=table["etcd"]["version"],
        # The machine is shared: at most two compile jobs, niced (see docs/apiserver.md).
        build_jobs=env_int("QUESTLINE_GO_BUILD_JOBS", 2, low=1, high=2, expected="1 or 2 parallel compile jobs"),
        start_timeout=float(env_int("QUESTLINE_START_TIMEOUT", 180, low=1, high=3600, expected="seconds, 1-3600")),
    )
