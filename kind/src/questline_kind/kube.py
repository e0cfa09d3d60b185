"""Readiness of the deployed stack, read with the Kubernetes API (never with sleeps alone)."""

import os
import time

from kubernetes import client, config
from kubernetes.client import ApiClient

from questline_kind.settings import Settings

STRIMZI_GROUP = "kafka.strimzi.io"


class NotReady(TimeoutError):
    pass


def api_client(settings: Settings, context: str | None = None) -> ApiClient:
    """A client for `context`, by default the smoke test's (QUESTLINE_KUBE_CONTEXT).

    KUBECONFIG is read here, per call: the client library reads it once at import, so a KUBECONFIG
    set later (the node's, by the cluster tests) would be ignored for ~/.kube/config."""
    return config.new_client_from_config(
        config_file=os.environ.get("KUBECONFIG"), context=context or settings.kube_context
    )


def _deployment_problem(d: client.V1Deployment) -> str | None:
    want = d.spec.replicas if d.spec.replicas is not None else 1
    ready = d.status.ready_replicas or 0
    return None if ready >= want else f"deployment/{d.metadata.name}: {ready}/{want} ready"


def _statefulset_problem(s: client.V1StatefulSet) -> str | None:
    want = s.spec.replicas if s.spec.replicas is not None else 1
    ready = s.status.ready_replicas or 0
    return None if ready >= want else f"statefulset/{s.metadata.name}: {ready}/{want} ready"


def _kafka_problems(api: ApiClient, namespace: str) -> list[str]:
    """Strimzi's Kafka resources report readiness as a Ready condition; none existing is fine
    (a namespace without Kafka, like ingress-nginx's)."""
    custom = client.CustomObjectsApi(api)
    try:
        kafkas = custom.list_namespaced_custom_object(STRIMZI_GROUP, "v1", namespace, "kafkas")["items"]
    except client.ApiException as exc:
        if exc.status == 404:  # CRD not installed
            return []
        raise
    problems = []
    for kafka in kafkas:
        conditions = kafka.get("status", {}).get("conditions", [])
        if not any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            problems.append(f"kafka/{kafka['metadata']['name']}: not Ready")
    return problems


def problems(api: ApiClient, namespace: str) -> list[str]:
    """What in the namespace is not ready yet (empty: everything is)."""
    apps = client.AppsV1Api(api)
    deployments = apps.list_namespaced_deployment(namespace).items
    statefulsets = apps.list_namespaced_stateful_set(namespace).items
    if not deployments and not statefulsets:
        return [f"nothing deployed in namespace {namespace} yet"]
    found = [p for d in deployments if (p := _deployment_problem(d))]
    found += [p for s in statefulsets if (p := _statefulset_problem(s))]
    return found + _kafka_problems(api, namespace)


def container_env(api: ApiClient, namespace: str, component: str) -> dict[str, str]:
    """The literal environment of the first container of the Deployment of a chart component
    (label app.kubernetes.io/name); what the release told that component."""
    apps = client.AppsV1Api(api)
    found = apps.list_namespaced_deployment(namespace, label_selector=f"app.kubernetes.io/name={component}").items
    if len(found) != 1:
        names = [d.metadata.name for d in found]
        raise NotReady(f"expected one Deployment of {component} in namespace {namespace}, found {names}")
    container = found[0].spec.template.spec.containers[0]
    return {e.name: e.value for e in container.env or [] if e.value is not None}


def wait_until_ready(api: ApiClient, namespace: str, timeout: float, poll: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        pending = problems(api, namespace)
        if not pending:
            return
        if time.monotonic() > deadline:
            raise NotReady(f"namespace {namespace} not ready after {timeout:.0f}s: " + "; ".join(pending))
        time.sleep(poll)
