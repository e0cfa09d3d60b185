"""Helpers of the chart tests: the pinned tools (installed through tools/install.sh when
missing), helm invocations and rendered manifests, cached per values-file combination."""

import functools
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from questline_devkit.artifacts import cache_dir

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "questline"
RELEASE = "questline"
NAMESPACE = "questline"

# Values files every validation runs over: (id, files layered on the chart's defaults).
SCENARIOS: dict[str, tuple[str, ...]] = {
    "default": (),
    "kind": ("values-kind.yaml",),
    "production": ("values-production.yaml",),
    **{p.stem: (f"ci/{p.name}",) for p in sorted((CHART / "ci").glob("scenario-*.yaml"))},
}


@dataclass(frozen=True)
class Tools:
    helm: str
    kubeconform: str
    kubernetes_schemas: Path
    strimzi_schemas: Path
    prometheus_operator_schemas: Path
    kubernetes_version: str

    def kubeconform_command(self, *options: str) -> list[str]:
        """kubeconform with `options`, reading the Kubernetes schemas, then the CRDs the charts use."""
        command = [self.kubeconform, *options]
        for root in (self.kubernetes_schemas, self.strimzi_schemas, self.prometheus_operator_schemas):
            command += ["-schema-location", f"{root}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json"]
        return command


class ToolsError(RuntimeError):
    pass


def install_tools() -> Tools:
    """helm, kubeconform and the schemas; tools/install.sh builds what is missing (minutes, once)."""
    result = subprocess.run(["bash", str(REPO / "tools" / "install.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        raise ToolsError(f"tools/install.sh failed:\n{result.stdout}\n{result.stderr[-4000:]}")
    env = dict(line.split("=", 1) for line in result.stdout.splitlines() if line.startswith("QUESTLINE_"))
    from questline_devkit.versions import versions

    return Tools(
        helm=env["QUESTLINE_HELM"],
        kubeconform=env["QUESTLINE_KUBECONFORM"],
        kubernetes_schemas=Path(env["QUESTLINE_KUBERNETES_SCHEMAS"]),
        strimzi_schemas=Path(env["QUESTLINE_STRIMZI_SCHEMAS"]),
        prometheus_operator_schemas=Path(env["QUESTLINE_PROMETHEUS_OPERATOR_SCHEMAS"]),
        kubernetes_version=versions()["kubernetes"]["version"],
    )


def helm(tools: Tools, *args: str) -> subprocess.CompletedProcess:
    # Helm's own config, cache and data dirs in the cache: no repositories or plugins of the user.
    cache = cache_dir() / "helm"
    env = {
        **os.environ,
        "HELM_CACHE_HOME": str(cache / "cache"),
        "HELM_CONFIG_HOME": str(cache / "config"),
        "HELM_DATA_HOME": str(cache / "data"),
        # Offline by construction: no kubeconfig, so nothing can reach a cluster.
        "KUBECONFIG": os.devnull,
    }
    return subprocess.run([tools.helm, *args], capture_output=True, text=True, env=env)


def values_args(files: tuple[str, ...], sets: tuple[str, ...] = ()) -> list[str]:
    args = [arg for f in files for arg in ("--values", str(CHART / f))]
    return args + [arg for s in sets for arg in ("--set", s)]


def template(tools: Tools, files: tuple[str, ...] = (), sets: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    return helm(
        tools,
        "template",
        RELEASE,
        str(CHART),
        "--namespace",
        NAMESPACE,
        "--kube-version",
        tools.kubernetes_version,
        *values_args(files, sets),
    )


@functools.cache
def rendered(tools: Tools, files: tuple[str, ...] = (), sets: tuple[str, ...] = ()) -> str:
    """The manifest of helm template for some values files and --set assignments (cached)."""
    result = template(tools, files, sets)
    if result.returncode != 0:
        raise AssertionError(f"helm template {files} {sets} failed:\n{result.stderr}")
    return result.stdout


def documents(manifest: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(manifest) if doc]


def pod_specs(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod specs a resource runs (Deployment, StatefulSet, Job, CronJob, Pod)."""
    kind, spec = resource["kind"], resource.get("spec", {})
    if kind == "Pod":
        return [spec]
    if kind in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return [spec["template"]["spec"]]
    if kind == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    return []


def env_values(container: dict[str, Any]) -> dict[str, str]:
    """A container's variables as a process sees them: a value, or for one read from a Secret
    (secretKeyRef) a stand-in naming it, so settings modules can load (fieldRefs are left out)."""
    env = {}
    for e in container.get("env", []):
        if "value" in e:
            env[e["name"]] = str(e["value"])
        elif ref := e.get("valueFrom", {}).get("secretKeyRef"):
            env[e["name"]] = f"from-secret-{ref['name']}-{ref['key']}"
    return env


# Kafka's users (global.kafkaAuth): the Secret of each one's password, named like the user.
KAFKA_USER_SECRETS = {f"{RELEASE}-kafka-{role}" for role in ("api", "spark", "admin", "controller")}


def replicas(resource: dict[str, Any]) -> int:
    if resource["kind"] in ("Deployment", "StatefulSet"):
        return int(resource["spec"].get("replicas", 1))
    return 1


def is_helm_test(resource: dict[str, Any]) -> bool:
    return resource.get("metadata", {}).get("annotations", {}).get("helm.sh/hook") == "test"


def mounted_here(env: dict[str, str], tmp_path) -> dict[str, str]:
    """The env with each *_FILE path (a file the pod mounts from a Secret) moved to a stand-in file
    here, so that a settings module that reads the file (QUESTLINE_TRINO_PASSWORD_FILE) loads."""
    moved = dict(env)
    for name in env:
        if name.endswith("_FILE"):
            stand_in = tmp_path / name
            stand_in.write_text("stand-in for a file mounted from a Secret\n")
            moved[name] = str(stand_in)
    return moved
