"""Secure defaults hold in every scenario: non-root, no capabilities, seccomp, bounded
resources, no secrets in values, NetworkPolicies present when switched on."""

import re

import pytest
import yaml
from chartlib import CHART, KAFKA_USER_SECRETS, SCENARIOS, is_helm_test, pod_specs

pytestmark = pytest.mark.charts


def _containers(spec):
    return [*spec.get("initContainers", []), *spec["containers"]]


def _strimzi_and_spark_pod_specs(resources):
    """Pods the operators and Spark drivers create, described by the chart in other resources."""
    for r in resources:
        if r["kind"] == "Kafka":
            kafka_template = r["spec"]["kafka"]["template"]
            yield (
                f"Kafka/{r['metadata']['name']}",
                kafka_template["pod"]["securityContext"],
                [kafka_template["kafkaContainer"]["securityContext"]],
            )
            eo = r["spec"]["entityOperator"]["template"]
            yield (
                f"Kafka/{r['metadata']['name']} entity operator",
                eo["pod"]["securityContext"],
                [eo["topicOperatorContainer"]["securityContext"]],
            )
        if r["kind"] == "ConfigMap" and "executor-pod-template.yaml" in r.get("data", {}):
            pod = yaml.safe_load(r["data"]["executor-pod-template.yaml"])["spec"]
            yield (
                "Spark executor pod template",
                pod["securityContext"],
                [c["securityContext"] for c in pod["containers"]],
            )


def _all_pod_security(resources):
    for r in resources:
        for spec in pod_specs(r):
            name = f"{r['kind']}/{r['metadata']['name']}"
            yield name, spec.get("securityContext", {}), [c.get("securityContext", {}) for c in _containers(spec)]
    yield from _strimzi_and_spark_pod_specs(resources)


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_pod_runs_as_non_root_without_capabilities_under_runtime_default_seccomp(render, files):
    _, resources = render(files)
    checked = 0
    for name, pod, containers in _all_pod_security(resources):
        assert pod.get("runAsNonRoot") is True, name
        assert pod.get("runAsUser", 0) > 0, name
        assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for sc in containers:
            assert sc.get("allowPrivilegeEscalation") is False, name
            assert sc.get("privileged") is not True, name
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], name
            assert not sc.get("capabilities", {}).get("add"), name
            assert sc.get("runAsNonRoot") is True, name
            assert sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", name
            assert sc.get("readOnlyRootFilesystem") is True, name
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_every_container_has_cpu_and_memory_requests_and_limits(render, files):
    _, resources = render(files)
    bounded = []
    for r in resources:
        for spec in pod_specs(r):
            for c in _containers(spec):
                for kind in ("requests", "limits"):
                    assert set(c.get("resources", {}).get(kind, {})) >= {"cpu", "memory"}, (
                        r["metadata"]["name"],
                        c["name"],
                        kind,
                    )
                bounded.append(c["name"])
        if r["kind"] == "KafkaNodePool":
            assert set(r["spec"]["resources"]["requests"]) >= {"cpu", "memory"}
            assert set(r["spec"]["resources"]["limits"]) >= {"cpu", "memory"}
    assert bounded


SECRET_WORDS = re.compile(r"(password|passwd|secret|token|credential|apikey|api_key)", re.I)
# Keys that name a Secret (existingSecret, tlsSecretName, imagePullSecrets) hold references, not secrets.
SECRET_REFERENCE = re.compile(r"[a-z](Secret|SecretName|Secrets)$")


def _secret_like_keys(node, path=""):
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if SECRET_WORDS.search(str(key)) and not SECRET_REFERENCE.search(str(key)):
                yield here, value
            yield from _secret_like_keys(value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _secret_like_keys(item, f"{path}[{i}]")


def test_no_values_file_holds_a_password_or_token():
    files = sorted(CHART.rglob("values*.yaml")) + sorted((CHART / "ci").glob("*.yaml"))
    assert len(files) >= 9
    found = [(f.name, key) for f in files for key, _ in _secret_like_keys(yaml.safe_load(f.read_text()) or {})]
    assert not found


def _secret_volume_mounts(spec, container) -> list[str]:
    """The mount paths of the container's volumes that hold only Secrets (secret, or projected secrets)."""
    secret_volumes = {
        v["name"]
        for v in spec.get("volumes", [])
        if "secret" in v or ("projected" in v and all("secret" in s for s in v["projected"]["sources"]))
    }
    return [m["mountPath"] for m in container.get("volumeMounts", []) if m["name"] in secret_volumes]


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_secret_like_environment_comes_from_secrets_never_literals(render, files):
    """A secret-like variable comes from a Secret; one ending in _FILE may name a file instead,
    and that file must be in a volume mounted from a Secret (QUESTLINE_TRINO_PASSWORD_FILE)."""
    _, resources = render(files)
    for r in resources:
        for spec in pod_specs(r):
            for c in _containers(spec):
                for env in c.get("env", []):
                    if not SECRET_WORDS.search(env["name"]):
                        continue
                    where = (r["metadata"]["name"], env["name"])
                    if env["name"].endswith("_FILE") and "value" in env:
                        mounts = _secret_volume_mounts(spec, c)
                        assert any(env["value"].startswith(m.rstrip("/") + "/") for m in mounts), where
                    else:
                        assert "valueFrom" in env and "value" not in env, where


def test_generated_database_password_is_random_not_a_default(render):
    def password(sets):
        _, resources = render((), sets)
        (secret,) = [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"].endswith("-db")]
        return secret["data"]["password"]

    # Two renders (the second differs only by an unrelated value) generate two passwords.
    assert password(()) != password(("api.replicaCount=1",))


def test_an_existing_secret_replaces_the_generated_one(render):
    _, resources = render(("ci/scenario-external-database-no-ingress.yaml",))
    assert not [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"].endswith("-db")]
    refs = {
        env["valueFrom"]["secretKeyRef"]["name"]
        for r in resources
        for spec in pod_specs(r)
        for c in _containers(spec)
        for env in c.get("env", [])
        if "secretKeyRef" in env.get("valueFrom", {})
    }
    # The other references: Trino's shared secret (the Trino Secrets: test_trino_auth_chart.py).
    assert refs - KAFKA_USER_SECRETS == {"questline-metastore-db", "questline-trino-auth"}


def _selected_by(policy, labels):
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_network_policies_cover_every_pod_when_enabled_and_vanish_when_disabled(render, files):
    _, resources = render(files)
    policies = [r for r in resources if r["kind"] == "NetworkPolicy"]
    layers = [yaml.safe_load((CHART / f).read_text()) or {} for f in files]
    enabled = all(layer.get("global", {}).get("networkPolicies", {}).get("enabled", True) for layer in layers)
    if not enabled:
        assert not policies
        return
    deny = [p for p in policies if p["metadata"]["name"].endswith("default-deny-ingress")]
    assert len(deny) == 1 and "ingress" not in deny[0]["spec"]
    allow = [p for p in policies if p not in deny]
    for r in resources:
        if is_helm_test(r):
            continue
        for _spec in pod_specs(r):
            template = r["spec"].get("template") or r["spec"]["jobTemplate"]["spec"]["template"]
            assert _selected_by(deny[0], template["metadata"]["labels"]), r["metadata"]["name"]
    # Whatever a Service exposes must be admitted by some policy, or the component is cut off.
    for service in (r for r in resources if r["kind"] == "Service"):
        selector = service["spec"]["selector"]
        backends = [
            r["spec"]["template"]["metadata"]["labels"]
            for r in resources
            if r["kind"] in ("Deployment", "StatefulSet")
            and all(r["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in selector.items())
        ]
        assert backends, f"Service {service['metadata']['name']} selects no workload"
        for labels in backends:
            assert any(_selected_by(p, labels) for p in allow), f"no NetworkPolicy admits {service['metadata']['name']}"
    # Drivers and executors of Spark accept each other's connections.
    spark = [r for r in resources if r["kind"] == "Deployment" and r["metadata"]["name"].endswith("spark-stream")]
    for r in spark:
        assert any(_selected_by(p, r["spec"]["template"]["metadata"]["labels"]) for p in allow)


def test_network_policies_toggle_off_renders_none(render):
    _, resources = render((), ("global.networkPolicies.enabled=false",))
    assert not [r for r in resources if r["kind"] == "NetworkPolicy"]
