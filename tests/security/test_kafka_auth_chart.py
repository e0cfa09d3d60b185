"""Kafka's users and ACLs in the chart (issue 20, item 3): a SCRAM-SHA-512 listener checked by
Kafka's authorizer in both modes, the API allowed only to write the events topic and Spark only
to read it, passwords generated into Secrets (Strimzi's User Operator, or the chart in plain mode)
and read by each pod from its own user's Secret: never in a ConfigMap, a values file or an image.

Rendered offline only: no test here runs a broker (the local stack's tests do:
tests/stack/test_kafka_users_and_acls.py)."""

import base64
import re

import pytest
import yaml
from chartlib import CHART, KAFKA_USER_SECRETS, REPO, pod_specs

from questline_events import SPARK_KAFKA_GROUP_PREFIX, TOPIC_EVENTS

pytestmark = pytest.mark.charts

PLAIN = ("kafka.mode=plain",)
USERS = {role: f"questline-kafka-{role}" for role in ("api", "spark", "admin")}
# What each user may do; the admin is a super user without ACLs.
ACLS = {
    "api": [("topic", TOPIC_EVENTS, "literal", ["Write", "Describe"])],
    "spark": [
        ("topic", TOPIC_EVENTS, "literal", ["Read", "Describe"]),
        ("group", SPARK_KAFKA_GROUP_PREFIX, "prefix", ["Read"]),
    ],
}


def _named(resources, kind, name):
    (found,) = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    return found


def _kafka_users_of_pods(resources) -> dict[str, str]:
    """`kind/name container` -> the Kafka user it logs in as, checked to come with its own Secret."""
    users = {}
    for r in resources:
        for spec in pod_specs(r):
            for c in spec.get("initContainers", []) + spec["containers"]:
                env = {e["name"]: e for e in c.get("env", [])}
                if "QUESTLINE_KAFKA_USERNAME" not in env:
                    assert "QUESTLINE_KAFKA_PASSWORD" not in env
                    continue
                user = env["QUESTLINE_KAFKA_USERNAME"]["value"]
                password = env["QUESTLINE_KAFKA_PASSWORD"]
                assert "value" not in password, f"{r['metadata']['name']}: a Kafka password given as a value"
                assert password["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
                users[f"{r['kind']}/{r['metadata']['name']} {c['name']}"] = user
    return users


@pytest.mark.parametrize(
    "files", [(), ("values-kind.yaml",), ("values-production.yaml",)], ids=["default", "kind", "production"]
)
def test_strimzi_mode_has_a_scram_listener_the_simple_authorizer_and_users_with_their_acls(render, files):
    _, resources = render(files)
    kafka = _named(resources, "Kafka", "questline")["spec"]
    (listener,) = kafka["kafka"]["listeners"]
    assert listener["authentication"] == {"type": "scram-sha-512"}
    assert kafka["kafka"]["authorization"] == {"type": "simple", "superUsers": [USERS["admin"]]}
    assert "userOperator" in kafka["entityOperator"]
    users = {r["metadata"]["name"]: r for r in resources if r["kind"] == "KafkaUser"}
    assert set(users) == set(USERS.values())
    for role, name in USERS.items():
        spec = users[name]["spec"]
        assert users[name]["metadata"]["labels"]["strimzi.io/cluster"] == "questline"
        assert spec["authentication"] == {"type": "scram-sha-512"}
        got = [
            (a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"], a["operations"])
            for a in spec.get("authorization", {}).get("acls", [])
        ]
        assert got == ACLS.get(role, []), name
    # Strimzi generates the Secrets: the chart renders none of them.
    assert not [r for r in resources if r["kind"] == "Secret" and r["metadata"]["name"] in KAFKA_USER_SECRETS]


@pytest.mark.parametrize("sets", [(), PLAIN], ids=["strimzi", "plain"])
def test_every_kafka_client_logs_in_as_its_own_user_from_its_secret(render, sets):
    _, resources = render((), sets)
    users = _kafka_users_of_pods(resources)
    by_user: dict[str, set[str]] = {}
    for pod, user in users.items():
        by_user.setdefault(user, set()).add(pod.split(" ")[0])
    assert by_user[USERS["api"]] == {"Deployment/questline-api", "Pod/questline-api-kafka-test"}
    # Every Spark driver (they share one environment; the stream and the batch job read Kafka).
    assert by_user[USERS["spark"]] == {
        "Deployment/questline-spark-stream",
        "CronJob/questline-spark-batch",
        "CronJob/questline-spark-compact",
        "CronJob/questline-spark-kpi",
        "Job/questline-spark-tables",
    }
    # The admin: the helm tests that write a record, and in plain mode the topic Job.
    topic_jobs = {p for p in by_user[USERS["admin"]] if p.startswith("Job/questline-kafka-topics-")}
    assert len(topic_jobs) == (1 if sets else 0)
    assert by_user[USERS["admin"]] - topic_jobs == {"Pod/questline-kafka-test", "Pod/questline-spark-test"}
    assert set(by_user) == set(USERS.values())


def test_plain_mode_generates_each_password_and_the_topic_job_sets_users_and_acls(render):
    _, resources = render((), PLAIN)
    secrets = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Secret"}
    passwords = {}
    for name in KAFKA_USER_SECRETS:
        secret = secrets[name]
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        passwords[name] = base64.b64decode(secret["data"]["password"]).decode()
        assert re.fullmatch(r"[A-Za-z0-9]{32}", passwords[name])
    assert len(set(passwords.values())) == len(passwords)
    # No password outside its Secret: not in a ConfigMap, an env value, a script.
    outside = yaml.safe_dump_all([r for r in resources if r["kind"] != "Secret"])
    assert not [name for name, password in passwords.items() if password in outside]

    sts = _named(resources, "StatefulSet", "questline-dual")
    env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]["value"] == "CLIENT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"]["value"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"]["value"] == "false"
    assert env["KAFKA_SUPER_USERS"]["value"] == f"User:{USERS['admin']};User:controller"
    assert "$(QUESTLINE_KAFKA_ADMIN_PASSWORD)" in env["KAFKA_FORMAT_ADD_SCRAM"]["value"]
    assert env["QUESTLINE_KAFKA_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == USERS["admin"]

    (job,) = [r for r in resources if r["kind"] == "Job" and "-kafka-topics-" in r["metadata"]["name"]]
    script = job["spec"]["template"]["spec"]["containers"][0]["command"][-1]
    for role in ("api", "spark"):
        assert f"--entity-type users --entity-name {USERS[role]}" in script
    acl = r'--allow-principal "User:([^"]+)" \\\s+--(topic|group) "([^"]+)" --resource-pattern-type (\w+)'
    acls = re.findall(acl + r"((?: --operation \w+)+)", script)
    got = {(u, t, n, p, tuple(o.split(" --operation ")[1:])) for u, t, n, p, o in acls}
    want = {
        (USERS[role], t, n, "prefixed" if p == "prefix" else p, tuple(ops))
        for role, rules in ACLS.items()
        for t, n, p, ops in rules
    }
    assert got == want


def test_auth_off_leaves_the_listener_open_and_renders_no_users(render):
    for sets in [("global.kafkaAuth.enabled=false",), ("global.kafkaAuth.enabled=false", *PLAIN)]:
        _, resources = render((), sets)
        assert not [r for r in resources if r["kind"] == "KafkaUser" or r["metadata"]["name"] in KAFKA_USER_SECRETS]
        assert not _kafka_users_of_pods(resources)


def test_no_values_file_turns_kafka_auth_off_or_holds_a_kafka_password():
    for path in [CHART / "values.yaml", *CHART.glob("values-*.yaml"), *CHART.glob("ci/*.yaml")]:
        values = yaml.safe_load(path.read_text()) or {}
        assert values.get("global", {}).get("kafkaAuth", {}).get("enabled", True) is True, path.name
        assert "QUESTLINE_KAFKA_PASSWORD" not in path.read_text(), path.name


def test_no_image_bakes_in_a_kafka_credential():
    for dockerfile in (REPO / "images").glob("*/Dockerfile"):
        text = dockerfile.read_text()
        assert not re.search(r"(?im)^\s*(ENV|ARG)\s+\S*(PASSWORD|SASL|JAAS)", text), dockerfile
        assert "kafka/users" not in text and "client.properties" not in text, dockerfile
