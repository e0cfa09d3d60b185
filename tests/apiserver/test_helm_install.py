"""`helm install/upgrade/uninstall` of the umbrella chart against a real kube-apiserver.

Objects are really stored (no --dry-run): admission, OpenAPI and CRD validation,
RBAC and defaulting all run. No kubelet or controllers run, so no pod ever starts;
docs/apiserver.md says what that does and does not prove.
"""

import ipaddress
from dataclasses import dataclass

import pytest
from apiserverlib import CHART, RELEASE, Helm, HookCompleter, HookRecord, as_stored, differences, new_namespace, ref
from kubernetes import client
from kubernetes.client.rest import ApiException

from questline_node.settings import SERVICE_CIDR

pytestmark = pytest.mark.apiserver

# Value scenarios of the chart: none (values.yaml only), the kind cluster, production.
SCENARIOS = {
    "default": [],
    "kind": ["-f", str(CHART / "values-kind.yaml")],
    "production": ["-f", str(CHART / "values-production.yaml")],
}
# The value the upgrade changes, and where it must show afterwards.
UPGRADE_SET = "api.logLevel=DEBUG"
UPGRADE_ENV = ("QUESTLINE_API_LOG_LEVEL", "DEBUG")


@dataclass
class Release:
    scenario: str
    namespace: str
    values: list[str]
    helm: Helm
    install_hooks: HookRecord
    installed: bool = True


def _install_or_upgrade(api_client, helm: Helm, namespace: str, *args: str) -> HookRecord:
    with HookCompleter(api_client, namespace) as completer:
        helm.run(*args, RELEASE, str(CHART), "-n", namespace, "--timeout", "3m")
    if completer.error:
        raise completer.error
    return completer.record


@pytest.fixture(scope="module", params=list(SCENARIOS))
def release(request, api_client, strimzi_crds, tools, control_plane_settings):
    namespace = new_namespace(api_client)
    values = SCENARIOS[request.param]
    for path in values[1::2]:
        assert CHART.joinpath(path).is_file(), f"values file {path} is missing"
    helm = Helm(tools["QUESTLINE_HELM"], control_plane_settings.kubeconfig)
    hooks = _install_or_upgrade(api_client, helm, namespace, "install", *values)
    installed = Release(request.param, namespace, values, helm, hooks)
    yield installed
    if installed.installed:
        helm.run("uninstall", RELEASE, "-n", namespace, "--timeout", "1m", check=False)


def _stored(dyn, obj: dict, namespace: str) -> dict:
    resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    ns = namespace if resource.namespaced else None
    return resource.get(name=obj["metadata"]["name"], namespace=ns).to_dict()


def test_every_rendered_object_is_stored_as_rendered(release, dyn):
    manifest = release.helm.manifest(release.namespace)
    assert manifest, "helm get manifest returned no objects"
    mismatches = {}
    for obj in manifest:
        found = differences(as_stored(obj), _stored(dyn, obj, release.namespace))
        if found:
            mismatches[ref(obj)] = found
    assert not mismatches, f"stored objects differ from the rendered ones: {mismatches}"


POD = ("spec", "template", "spec")
POD_DEFAULTS = {
    (*POD, "dnsPolicy"): "ClusterFirst",
    (*POD, "restartPolicy"): "Always",
    (*POD, "schedulerName"): "default-scheduler",
    (*POD, "terminationGracePeriodSeconds"): 30,
}
# What the server fills in where the chart leaves a field out (Kubernetes API defaults).
DEFAULTS = {
    "Deployment": POD_DEFAULTS
    | {
        ("spec", "strategy", "type"): "RollingUpdate",
        ("spec", "revisionHistoryLimit"): 10,
        ("spec", "progressDeadlineSeconds"): 600,
    },
    "StatefulSet": POD_DEFAULTS
    | {
        ("spec", "podManagementPolicy"): "OrderedReady",
        ("spec", "updateStrategy", "type"): "RollingUpdate",
        ("spec", "revisionHistoryLimit"): 10,
        ("spec", "persistentVolumeClaimRetentionPolicy"): {"whenDeleted": "Retain", "whenScaled": "Retain"},
    },
    "Service": {("spec", "sessionAffinity"): "None", ("spec", "ipFamilyPolicy"): "SingleStack"},
    "CronJob": {
        ("spec", "concurrencyPolicy"): "Allow",
        ("spec", "successfulJobsHistoryLimit"): 3,
        ("spec", "failedJobsHistoryLimit"): 1,
    },
}
CONTAINER_DEFAULTS = {("terminationMessagePath",): "/dev/termination-log", ("terminationMessagePolicy",): "File"}
MISSING = object()


def _get(obj, path):
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return MISSING
        obj = obj[key]
    return obj


def test_server_defaults_fill_what_the_chart_left_out(release, dyn):
    checked, wrong = 0, []
    service_range = ipaddress.ip_network(SERVICE_CIDR)
    for obj in release.helm.manifest(release.namespace):
        stored = _stored(dyn, obj, release.namespace)
        expected = [(path, value, obj, stored) for path, value in DEFAULTS.get(obj["kind"], {}).items()]
        pod_path = ("spec", "jobTemplate", *POD) if obj["kind"] == "CronJob" else POD
        containers = _get(obj, (*pod_path, "containers"))
        for i, container in enumerate([] if containers is MISSING else containers):
            stored_container = _get(stored, (*pod_path, "containers"))[i]
            expected += [(path, value, container, stored_container) for path, value in CONTAINER_DEFAULTS.items()]
        for path, value, rendered, actual in expected:
            if _get(rendered, path) is MISSING:
                checked += 1
                if _get(actual, path) != value:
                    wrong.append(f"{ref(obj)} {'.'.join(path)}: {_get(actual, path)!r}, expected default {value!r}")
        if obj["kind"] == "Service" and stored["spec"]["clusterIP"] != "None":
            checked += 1
            if ipaddress.ip_address(stored["spec"]["clusterIP"]) not in service_range:
                wrong.append(f"{ref(obj)} clusterIP {stored['spec']['clusterIP']} outside {service_range}")
    assert checked > 20, f"only {checked} defaults to check: did the chart render its workloads?"
    assert not wrong


def test_kafka_resources_read_back_through_the_strimzi_crds(release, dyn):
    manifest = release.helm.manifest(release.namespace)
    strimzi = [obj for obj in manifest if obj["apiVersion"].startswith("kafka.strimzi.io/")]
    assert {"Kafka", "KafkaNodePool", "KafkaTopic"} <= {obj["kind"] for obj in strimzi}
    for obj in strimzi:
        stored = _stored(dyn, obj, release.namespace)
        assert stored["apiVersion"] == obj["apiVersion"] == "kafka.strimzi.io/v1"
        assert stored["metadata"]["generation"] == 1, ref(obj)
        assert differences(obj["spec"], stored["spec"]) == [], ref(obj)
    kafka = next(_stored(dyn, obj, release.namespace) for obj in strimzi if obj["kind"] == "Kafka")
    # The operator would set status; without it the server keeps the resource as declared.
    assert "status" not in kafka


def _allowed(api_client, user: str, namespace: str, verb: str, resource: str, group: str = "") -> bool:
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=user,
            groups=["system:serviceaccounts", f"system:serviceaccounts:{namespace}"],
            resource_attributes=client.V1ResourceAttributes(
                namespace=namespace, verb=verb, resource=resource, group=group
            ),
        )
    )
    return client.AuthorizationV1Api(api_client).create_subject_access_review(review).status.allowed


def test_spark_service_account_may_run_executors_in_its_namespace_only(release, api_client):
    manifest = release.helm.manifest(release.namespace)
    accounts = [o["metadata"]["name"] for o in manifest if o["kind"] == "ServiceAccount"]
    spark_accounts = [name for name in accounts if "spark" in name]
    assert spark_accounts, f"no Spark ServiceAccount rendered; ServiceAccounts: {accounts}"
    for account in spark_accounts:
        user = f"system:serviceaccount:{release.namespace}:{account}"
        # What a Spark driver does with its executors (Spark's Kubernetes docs, RBAC section).
        for verb, resource in [
            ("create", "pods"),
            ("delete", "pods"),
            ("watch", "pods"),
            ("create", "services"),
            ("create", "configmaps"),
        ]:
            assert _allowed(api_client, user, release.namespace, verb, resource), f"{account} may not {verb} {resource}"
        assert not _allowed(api_client, user, "kube-system", "create", "pods"), (
            f"{account} may create pods in kube-system"
        )
        assert not _allowed(api_client, user, release.namespace, "list", "secrets"), f"{account} may list secrets"


def _expected_hook_jobs(hooks: list[dict], *events: str) -> list[str]:
    """Job hooks in the order Helm runs them: event by event, then by weight, then by name."""
    ordered = []
    for event in events:
        jobs = [
            h
            for h in hooks
            if h["kind"] == "Job" and event in h["metadata"]["annotations"]["helm.sh/hook"].replace(" ", "").split(",")
        ]
        jobs.sort(
            key=lambda h: (int(h["metadata"]["annotations"].get("helm.sh/hook-weight", "0")), h["metadata"]["name"])
        )
        ordered += [ref(h) for h in jobs]
    return ordered


def _assert_ran_in_order(record: HookRecord, expected: list[str]) -> None:
    assert record.created() == expected
    # Each hook was created only after the previous one completed: Helm waited.
    assert record.events == [(what, name) for name in expected for what in ("created", "completed")]


def test_install_hooks_run_in_declared_order_each_after_the_previous_completed(release):
    expected = _expected_hook_jobs(release.helm.hooks(release.namespace), "pre-install", "post-install")
    assert expected, "the chart declares no install hook Jobs (expected the metastore schema and the Spark tables jobs)"
    _assert_ran_in_order(release.install_hooks, expected)


def test_upgrade_with_a_changed_value_updates_the_stored_deployment(release, api_client, dyn):
    hooks = _install_or_upgrade(
        api_client, release.helm, release.namespace, "upgrade", *release.values, "--set", UPGRADE_SET
    )
    _assert_ran_in_order(
        hooks, _expected_hook_jobs(release.helm.hooks(release.namespace), "pre-upgrade", "post-upgrade")
    )
    history = release.helm.run("history", RELEASE, "-n", release.namespace, "-o", "json").stdout
    assert '"revision":2' in history.replace(" ", "")
    env = [
        (e["name"], e.get("value"))
        for obj in release.helm.manifest(release.namespace)
        if obj["kind"] == "Deployment"
        for c in _stored(dyn, obj, release.namespace)["spec"]["template"]["spec"]["containers"]
        for e in c.get("env") or []
    ]
    assert UPGRADE_ENV in env


def test_uninstall_removes_every_object_it_installed(release, dyn):
    manifest = release.helm.manifest(release.namespace)
    release.helm.run("uninstall", RELEASE, "-n", release.namespace, "--timeout", "1m")
    release.installed = False
    kept = {
        ref(o) for o in manifest if (o["metadata"].get("annotations") or {}).get("helm.sh/resource-policy") == "keep"
    }
    left = []
    for obj in manifest:
        try:
            _stored(dyn, obj, release.namespace)
            left.append(ref(obj))
        except ApiException as error:
            assert error.status == 404, f"{ref(obj)}: {error.reason}"
    assert set(left) == kept
