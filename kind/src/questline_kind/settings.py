"""Every setting of the kind workflow, read from environment variables in one place."""

import dataclasses
import os
from pathlib import Path
from urllib.parse import urlsplit

from questline_devkit.versions import repo_root


class SettingsError(ValueError):
    pass


def _positive_seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of seconds (expected e.g. 600)") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be positive (seconds)")
    return value


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
    host = os.environ.get("QUESTLINE_INGRESS_HOST", "").strip()
    if host:
        if "/" in host or " " in host:
            raise SettingsError(
                f"QUESTLINE_INGRESS_HOST={host!r} must be a bare host name (e.g. questline.localtest.me)"
            )
        return host
    parsed = urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(f"QUESTLINE_INGRESS_URL={url!r} is not an http(s) URL (e.g. http://questline.localtest.me)")
    return parsed.hostname


def load() -> Settings:
    cache = os.environ.get("QUESTLINE_CACHE")
    cluster_name = os.environ.get("QUESTLINE_KIND_CLUSTER", "questline")
    ingress_url = os.environ.get("QUESTLINE_INGRESS_URL", "http://questline.localtest.me").rstrip("/")
    return Settings(
        repo=repo_root(),
        cache_dir=Path(cache).expanduser() if cache else Path.home() / ".cache" / "questline",
        cluster_name=cluster_name,
        namespace=os.environ.get("QUESTLINE_NAMESPACE", "questline"),
        ingress_url=ingress_url,
        ingress_host=_ingress_host(ingress_url),
        kube_context=os.environ.get("QUESTLINE_KUBE_CONTEXT") or f"kind-{cluster_name}",
        trino_url=os.environ.get("QUESTLINE_TRINO_URL") or None,
        trino_service=os.environ.get("QUESTLINE_TRINO_SERVICE", "questline-trino"),
        timeout=_positive_seconds("QUESTLINE_SMOKE_TIMEOUT", 900),
        node_context=os.environ.get("QUESTLINE_NODE_CONTEXT", "questline-node"),
        node_registry=os.environ.get("QUESTLINE_NODE_REGISTRY", "127.0.0.1:5000"),
        node_ingress_url=os.environ.get("QUESTLINE_NODE_INGRESS_URL", "http://127.0.0.1").rstrip("/"),
        cluster_accounting_seconds=_positive_seconds("QUESTLINE_CLUSTER_ACCOUNTING_SECONDS", 180),
    )
