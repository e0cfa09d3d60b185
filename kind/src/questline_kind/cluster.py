"""Create and delete the kind cluster: one node, Traefik as the ingress controller on the host's
ports 80/443 (IngressClass `traefik`, as on the one-node cluster), and the namespace the stack is
deployed into (skaffold.yaml installs the Strimzi operator there first)."""

import subprocess

from kubernetes import client

from questline_devkit.versions import versions
from questline_kind import kube, tools
from questline_kind.settings import Settings

INGRESS_NAMESPACE = "traefik"
INGRESS_RELEASE = "traefik"
# Traefik's official chart repository (the same chart is at oci://ghcr.io/traefik/helm/traefik).
INGRESS_CHART_REPO = "https://traefik.github.io/charts"
INGRESS_CLASS = "traefik"


def traefik_install_argv(helm: str, settings: Settings) -> list[str]:
    """helm upgrade --install of Traefik at [kind].traefik_chart: its entry points web/websecure bind
    the node's ports 80/443 (hostPort; cluster.yaml maps them to the host's), on the node labelled
    ingress-ready, serving Ingresses of class `traefik` (values-kind.yaml's className)."""
    return [
        helm, "upgrade", "--install", INGRESS_RELEASE, "traefik",
        "--repo", INGRESS_CHART_REPO,
        "--version", versions()["kind"]["traefik_chart"],
        "--kube-context", settings.kind_context,
        "--namespace", INGRESS_NAMESPACE, "--create-namespace",
        "--set", f"ingressClass.name={INGRESS_CLASS}",
        "--set", "ingressClass.isDefaultClass=true",
        # 503 (retried by clients), not 404, while the API has no ready pod (Kafka restarting).
        "--set", "providers.kubernetesIngress.allowEmptyServices=true",
        "--set", "ports.web.hostPort=80",
        "--set", "ports.websecure.hostPort=443",
        "--set", "service.type=NodePort",
        "--set-string", "nodeSelector.ingress-ready=true",
        # One node, host ports: the old pod must go before the new one can bind them.
        "--set", "updateStrategy.rollingUpdate.maxUnavailable=1",
        "--set", "updateStrategy.rollingUpdate.maxSurge=0",
        "--wait", "--timeout", "5m",
    ]  # fmt: skip


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
    _run(traefik_install_argv(helm, settings))
    api = kube.api_client(settings, settings.kind_context)
    core = client.CoreV1Api(api)
    if not any(ns.metadata.name == settings.namespace for ns in core.list_namespace().items):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=settings.namespace)))
    kube.wait_until_ready(api, INGRESS_NAMESPACE, timeout=300)
    print(f"[kind] ready: context {settings.kind_context}; next: make dev", flush=True)


def down(settings: Settings) -> None:
    kind = tools.ensure(settings, "kind")
    if cluster_exists(settings, kind):
        _run([kind, "delete", "cluster", "--name", settings.cluster_name])
    else:
        print(f"[kind] no cluster {settings.cluster_name}", flush=True)
