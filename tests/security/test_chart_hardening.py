"""Security checks over the rendered charts, beside test_secure_defaults.py (which checks
non-root, dropped capabilities, seccomp, requests/limits, Secret references and
NetworkPolicies in every values scenario). These add what an attacker would look for next:
a Secret whose value is written in a values file, a pod that shares the node's namespaces or
disk, a service-account token mounted where nothing needs it or a Role wider than its job,
and a password spelled out in a configuration file."""

import base64
import re

import pytest
import yaml
from chartlib import CHART, KAFKA_USER_SECRETS, SCENARIOS, pod_specs

pytestmark = pytest.mark.charts

PASSWORD_LINE = re.compile(r"(password|passwd|secret|token)[^=:<>]*(=|:|</name>\s*<value>)\s*(\S+)", re.I)
REFERENCE = re.compile(r"\$\{(env\.|ENV:)[A-Z0-9_]+\}")
# A file's path names a file and holds no secret: Trino's `file.password-file=/etc/trino-auth/password.db`
# (bcrypt hashes, mounted from a Secret).
MOUNTED_FILE = re.compile(r"^/etc/[a-z0-9/._-]+$")


def _containers(spec):
    return [*spec.get("initContainers", []), *spec["containers"]]


def _secret_refs(resources):
    """Every secretKeyRef of every container's env."""
    for r in resources:
        for spec in pod_specs(r):
            for c in _containers(spec):
                for env in c.get("env", []):
                    if ref := env.get("valueFrom", {}).get("secretKeyRef"):
                        yield ref


def _scalars(node):
    if isinstance(node, dict):
        for value in node.values():
            yield from _scalars(value)
    elif isinstance(node, list):
        for item in node:
            yield from _scalars(item)
    elif node is not None:
        yield str(node)


def _values_literals() -> set[str]:
    files = [*CHART.rglob("values*.yaml"), *(CHART / "ci").glob("*.yaml")]
    return {s for f in files for s in _scalars(yaml.safe_load(f.read_text()) or {})}


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_no_secret_value_is_a_literal_written_in_any_values_file(render, files):
    _, resources = render(files)
    literals = _values_literals()
    secrets = [r for r in resources if r["kind"] == "Secret"]
    for secret in secrets:
        values = {k: base64.b64decode(v).decode() for k, v in secret.get("data", {}).items()}
        values |= secret.get("stringData", {})
        for key, value in values.items():
            assert value not in literals, f"Secret {secret['metadata']['name']}.{key} is a literal from values"
            assert len(value) >= 16, f"Secret {secret['metadata']['name']}.{key} is only {len(value)} characters"


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_no_pod_shares_the_nodes_network_processes_or_disk(render, files):
    _, resources = render(files)
    pods = 0
    for r in resources:
        for spec in pod_specs(r):
            name = f"{r['kind']}/{r['metadata']['name']}"
            pods += 1
            assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
            assert not [v["name"] for v in spec.get("volumes", []) if "hostPath" in v], name
            for c in _containers(spec):
                assert not [p for p in c.get("ports", []) if p.get("hostPort")], (name, c["name"])
    assert pods


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_only_pods_bound_to_a_narrow_role_get_a_service_account_token(render, files):
    _, resources = render(files)
    bound = {
        s["name"]: r["roleRef"]["name"]
        for r in resources
        if r["kind"] == "RoleBinding"
        for s in r["subjects"]
        if s["kind"] == "ServiceAccount"
    }
    roles = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Role"}
    assert not [r for r in resources if r["kind"] in ("ClusterRole", "ClusterRoleBinding")]
    for r in resources:
        for spec in pod_specs(r):
            if spec.get("automountServiceAccountToken") is False:
                continue
            account = spec.get("serviceAccountName", "default")
            name = f"{r['kind']}/{r['metadata']['name']}"
            assert account in bound, f"{name} mounts a token of {account}, which no Role needs"
    for role in roles.values():
        for rule in role["rules"]:
            assert "*" not in rule.get("verbs", []) and "*" not in rule.get("resources", []), role["metadata"]["name"]
            assert "secrets" not in rule.get("resources", []), f"{role['metadata']['name']} may read Secrets"


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_configuration_files_reference_passwords_and_never_hold_them(render, files):
    _, resources = render(files)
    checked = 0
    for r in resources:
        if r["kind"] != "ConfigMap":
            continue
        for key, text in r.get("data", {}).items():
            for line in text.splitlines():
                match = PASSWORD_LINE.search(line)
                # Flags such as automountServiceAccountToken: false hold no secret.
                # and Trino's password-authenticator.* settings name a plugin, not a password.
                if line.lstrip().startswith("password-authenticator."):
                    continue
                if match and match.group(3).strip("'\"").lower() not in ("true", "false"):
                    checked += 1
                    value = match.group(3)
                    assert REFERENCE.search(value) or MOUNTED_FILE.match(value), (
                        f"{r['metadata']['name']}/{key}: {line}"
                    )
    # The API's signing keys and Trino's passwords and certificate are files their users read
    # themselves (QUESTLINE_TRINO_PASSWORD_FILE...), named by no configuration file; Kafka's users
    # get their passwords as variables from their Secrets (tests/security/test_kafka_auth_chart.py).
    read_as_files = ("-api-auth", "-trino-auth", "-trino-tls")
    passwords = [
        r
        for r in resources
        if r["kind"] == "Secret"
        and not r["metadata"]["name"].endswith(read_as_files)
        and r["metadata"]["name"] not in KAFKA_USER_SECRETS
    ]
    referenced = {ref["name"] for ref in _secret_refs(resources)} - KAFKA_USER_SECRETS
    if passwords or referenced:
        assert checked, "a password is in use but no configuration file references it"
