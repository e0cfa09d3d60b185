"""Every setting of the kind workflow, read from environment variables in one place."""

import dataclasses
import os
from pathlib import Path

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
    ingress_url: str  # the API through the kind ingress
    trino_url: str | None  # None: the smoke test port-forwards the Trino service itself
    trino_service: str
    trino_catalog: str
    timeout: float  # how long the smoke test waits for readiness, then for the counts

    @property
    def kube_context(self) -> str:
        return f"kind-{self.cluster_name}"

    @property
    def bin_dir(self) -> Path:
        return self.cache_dir / "bin"


def load() -> Settings:
    cache = os.environ.get("QUESTLINE_CACHE")
    return Settings(
        repo=repo_root(),
        cache_dir=Path(cache).expanduser() if cache else Path.home() / ".cache" / "questline",
        cluster_name=os.environ.get("QUESTLINE_KIND_CLUSTER", "questline"),
        namespace=os.environ.get("QUESTLINE_NAMESPACE", "questline"),
        ingress_url=os.environ.get("QUESTLINE_INGRESS_URL", "http://questline.localtest.me").rstrip("/"),
        trino_url=os.environ.get("QUESTLINE_TRINO_URL") or None,
        trino_service=os.environ.get("QUESTLINE_TRINO_SERVICE", "questline-trino"),
        trino_catalog=os.environ.get("QUESTLINE_TRINO_CATALOG", "hive"),
        timeout=_positive_seconds("QUESTLINE_SMOKE_TIMEOUT", 900),
    )
