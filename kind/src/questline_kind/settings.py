"""Every setting of the kind workflow, read from environment variables in one place."""

import dataclasses
from pathlib import Path
from urllib.parse import urlsplit

from questline_devkit.artifacts import cache_dir
from questline_devkit.versions import repo_root
from questline_settings import SettingsError, http_url, number, text
from questline_settings.trino import TrinoLogin, trino_login, trino_url

__all__ = ["Settings", "SettingsError", "load"]


@dataclasses.dataclass(frozen=True)
class Settings:
    repo: Path
    cache_dir: Path  # pinned tool binaries and Go module downloads; never inside the repository
    cluster_name: str
    namespace: str  # namespace and Helm release of the stack (docs/architecture: both `questline`)
    ingress_url: str  # where the smoke test connects to reach the ingress controller
    ingress_host: str  # the Host header it sends (the Ingress rule's host); defaults to the URL's host
    kube_context: str  # where the smoke test looks for readiness and Trino (kind's context by default)
    trino_url: str | None  # None: the smoke test port-forwards the Trino service itself
    # QUESTLINE_TRINO_USER (default `smoke`), _PASSWORD_FILE, _CA_FILE; without a password file the
    # smoke test reads the smoke user's password and the CA from the release's Secrets.
    trino_login: TrinoLogin
    trino_service: str
    timeout: float  # how long the smoke test waits for readiness, then for the counts
    node_context: str  # the one-node cluster's context (`make node-up`)
    node_registry: str  # its registry, where skaffold's node profile pushes (host:port)
    node_ingress_url: str  # where the node's ingress controller (Traefik) answers, seen from this host
    cluster_accounting_seconds: float  # simulator traffic of the accounting run in tests/cluster

    @property
    def kind_context(self) -> str:
        """The context `kind create cluster` writes for this cluster."""
        return f"kind-{self.cluster_name}"

    @property
    def bin_dir(self) -> Path:
        return self.cache_dir / "bin"


def _ingress_host(url: str) -> str:
    """QUESTLINE_INGRESS_HOST, else the host of the ingress URL. Set it where the Ingress host has no
    DNS: e.g. URL http://127.0.0.1 with host questline.localtest.me reaches the same route."""
    host = text("QUESTLINE_INGRESS_HOST", "")
    if "/" in host or " " in host:
        raise SettingsError(f"QUESTLINE_INGRESS_HOST={host!r} must be a bare host name (e.g. questline.localtest.me)")
    return host or urlsplit(url).hostname


def load() -> Settings:
    cluster_name = text("QUESTLINE_KIND_CLUSTER", "questline")
    ingress_url = http_url("QUESTLINE_INGRESS_URL", "http://questline.localtest.me", example="http://host[:port]")
    url = trino_url("QUESTLINE_TRINO_URL")
    return Settings(
        repo=repo_root(),
        cache_dir=cache_dir(),
        cluster_name=cluster_name,
        namespace=text("QUESTLINE_NAMESPACE", "questline"),
        ingress_url=ingress_url,
        ingress_host=_ingress_host(ingress_url),
        kube_context=text("QUESTLINE_KUBE_CONTEXT", f"kind-{cluster_name}"),
        trino_url=url,
        trino_login=trino_login("smoke", url=url),
        trino_service=text("QUESTLINE_TRINO_SERVICE", "questline-trino"),
        timeout=number("QUESTLINE_SMOKE_TIMEOUT", 900.0, float, low=1, high=86_400, unit="seconds"),
        node_context=text("QUESTLINE_NODE_CONTEXT", "questline-node"),
        node_registry=text("QUESTLINE_NODE_REGISTRY", "127.0.0.1:5000"),
        node_ingress_url=http_url("QUESTLINE_NODE_INGRESS_URL", "http://127.0.0.1", example="http://host[:port]"),
        cluster_accounting_seconds=number(
            "QUESTLINE_CLUSTER_ACCOUNTING_SECONDS", 180.0, float, low=1, high=86_400, unit="seconds"
        ),
    )
