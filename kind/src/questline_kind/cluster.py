"""Create and delete the kind cluster: one node, ingress-nginx on the host's ports 80/443, and the
namespace the stack is deployed into (skaffold.yaml installs the Strimzi operator there first)."""

import subprocess

from kubernetes import client

from questline_devkit.versions import versions
from questline_kind import kube, tools
from questline_kind.settings import Settings

INGRESS_NAMESPACE = "ingress-nginx"
INGRESS_CHART_REPO = "https://kubernetes.github.io/ingress-nginx"


def _run(argv: list[str]) -> str:
    print("[kind] " + " ".join(argv), flush=True)
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def cluster_exists(settings: Settings, kind: str) -> bool:
    return settings.cluster_name in _run([kind, "get", "clusters"]).split()


def up(settings: Settings) -> None:
    problem = tools.docker_engine_problem()
    if problem:
        raise tools.ToolError(f"kind needs a running Docker engine: {problem}")
    kind = tools.ensure(settings, "kind")
    helm = tools.ensure(settings, "helm")
    if cluster_exists(settings, kind):
        print(f"[kind] cluster {settings.cluster_name} exists", flush=True)
    else:
        _run(
            [
                kind, "create", "cluster",
                "--name", settings.cluster_name,
                "--config", str(settings.repo / "kind" / "cluster.yaml"),
                "--image", versions()["kind"]["node_image"],
                "--wait", "180s",
            ]
        )  # fmt: skip
    # The controller binds the node's ports 80/443 (mapped to the host's by cluster.yaml).
    _run(
        [
            helm, "upgrade", "--install", "ingress-nginx", "ingress-nginx",
            "--repo", INGRESS_CHART_REPO,
            "--version", versions()["kind"]["ingress_nginx_chart"],
            "--kube-context", settings.kube_context,
            "--namespace", INGRESS_NAMESPACE, "--create-namespace",
            "--set", "controller.hostPort.enabled=true",
            "--set", "controller.service.type=NodePort",
            "--set-string", "controller.nodeSelector.ingress-ready=true",
            "--set", "controller.ingressClassResource.default=true",
            "--wait", "--timeout", "5m",
        ]
    )  # fmt: skip
    api = kube.api_client(settings)
    core = client.CoreV1Api(api)
    if not any(ns.metadata.name == settings.namespace for ns in core.list_namespace().items):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=settings.namespace)))
    kube.wait_until_ready(api, INGRESS_NAMESPACE, timeout=300)
    print(f"[kind] ready: context {settings.kube_context}; next: make dev", flush=True)


def down(settings: Settings) -> None:
    kind = tools.ensure(settings, "kind")
    if cluster_exists(settings, kind):
        _run([kind, "delete", "cluster", "--name", settings.cluster_name])
    else:
        print(f"[kind] no cluster {settings.cluster_name}", flush=True)
