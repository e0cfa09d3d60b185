"""The kafka subchart's two modes (values `kafka.mode`): strimzi renders only Strimzi custom
resources; plain renders our own KRaft StatefulSet, the same bootstrap Service name and port
Strimzi would create, and a Job that creates the same topics. Both pass kubeconform, and the
helm test pods of Kafka and of the streaming job render in both."""

import base64
import re
import subprocess

import pytest
import yaml
from chartlib import CHART, is_helm_test, pod_specs

from questline_events import TOPIC_EVENTS

pytestmark = pytest.mark.charts

KIND = ("values-kind.yaml",)
PLAIN = ("kafka.mode=plain",)
STRIMZI_KINDS = {"Kafka", "KafkaNodePool", "KafkaTopic"}
KAFKA_VALUES = yaml.safe_load((CHART / "charts/kafka/values.yaml").read_text())


def by_kind(resources, kind):
    return [r for r in resources if r["kind"] == kind]


def named(resources, kind, name):
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, (
        f"{kind}/{name}: found {len(found)} (have {sorted(r['metadata']['name'] for r in resources)})"
    )
    return found[0]


def env_of(container) -> dict[str, str]:
    return {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}


def kafka_container(resources):
    (sts,) = [
        r for r in by_kind(resources, "StatefulSet") if r["metadata"]["labels"]["app.kubernetes.io/name"] == "kafka"
    ]
    return sts, sts["spec"]["template"]["spec"]["containers"][0]


def topic_job(resources):
    jobs = [r for r in by_kind(resources, "Job") if r["metadata"]["name"].startswith("questline-kafka-topics-")]
    assert len(jobs) == 1, [r["metadata"]["name"] for r in by_kind(resources, "Job")]
    return jobs[0]


def script_of(resource) -> str:
    (spec,) = pod_specs(resource)
    return spec["containers"][0]["command"][-1]


@pytest.mark.parametrize("sets", [(), PLAIN], ids=["strimzi", "plain"])
def test_both_modes_render_valid_resources_none_skipped(tools, render, sets):
    manifest, _ = render(KIND, sets)
    cmd = tools.kubeconform_command("-strict", "-summary", "-output", "text")
    result = subprocess.run(cmd, input=manifest, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"Invalid: 0, Errors: 0, Skipped: 0", result.stdout), result.stdout


def test_strimzi_mode_renders_only_custom_resources_for_kafka(render):
    _, resources = render(KIND)
    assert {r["kind"] for r in resources} >= STRIMZI_KINDS
    kafka_workloads = [
        r
        for r in resources
        if r["kind"] in ("StatefulSet", "Service", "Job", "Secret")
        and r["metadata"]["labels"].get("app.kubernetes.io/name", "").startswith("kafka")
    ]
    assert kafka_workloads == []


def test_plain_mode_renders_no_strimzi_resource(render):
    _, resources = render(KIND, PLAIN)
    assert not {r["kind"] for r in resources} & STRIMZI_KINDS


def test_plain_mode_has_the_bootstrap_service_strimzi_would_create(render):
    _, strimzi = render(KIND)
    _, plain = render(KIND, PLAIN)
    (kafka,) = by_kind(strimzi, "Kafka")
    strimzi_name = f"{kafka['metadata']['name']}-kafka-bootstrap"
    strimzi_ports = {listener["port"] for listener in kafka["spec"]["kafka"]["listeners"]}
    service = named(plain, "Service", strimzi_name)
    assert {p["port"] for p in service["spec"]["ports"]} == strimzi_ports == {KAFKA_VALUES["plainPort"]}
    sts, container = kafka_container(plain)
    labels = sts["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in service["spec"]["selector"].items())
    target = service["spec"]["ports"][0]["targetPort"]
    assert target in {p["name"] for p in container["ports"]}


def test_plain_mode_changes_no_other_component(render):
    """Everything outside the kafka subchart renders identically in both modes."""

    def outside_kafka(resources):
        # Secrets are left out: generated passwords differ between any two renders.
        return sorted(
            yaml.safe_dump(r, sort_keys=True)
            for r in resources
            if r["kind"] != "Secret" and not r["metadata"]["labels"].get("helm.sh/chart", "").startswith("kafka-")
        )

    _, strimzi = render(KIND)
    _, plain = render(KIND, PLAIN)
    assert outside_kafka(strimzi) == outside_kafka(plain)


def test_plain_brokers_advertise_their_pod_names_and_vote_over_the_headless_service(render):
    _, resources = render(("ci/scenario-kafka-plain.yaml",))
    sts, container = kafka_container(resources)
    env = env_of(container)
    headless = named(resources, "Service", "questline-kafka-brokers")
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True
    assert sts["spec"]["serviceName"] == "questline-kafka-brokers"
    assert sts["metadata"]["name"] == "questline-dual"  # pods questline-dual-<n>, as Strimzi names them
    assert sts["spec"]["replicas"] == 3
    voters = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")
    assert voters == [f"{i}@questline-dual-{i}.questline-kafka-brokers.questline.svc:9093" for i in range(3)]
    # The client listener is SASL (global.kafkaAuth, on by default): named CLIENT, not PLAINTEXT.
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "CLIENT://$(POD_NAME).questline-kafka-brokers.questline.svc:9092"
    node_id = next(e for e in container["env"] if e["name"] == "KAFKA_NODE_ID")
    assert node_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.labels['apps.kubernetes.io/pod-index']"
    assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3" and env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"


def test_plain_brokers_follow_the_image_contract_and_node_pool_sizes(render):
    _, resources = render(KIND, PLAIN)
    kind_values = yaml.safe_load((CHART / "values-kind.yaml").read_text())
    pool = kind_values["kafka"]["nodePools"][0]
    sts, container = kafka_container(resources)
    env = env_of(container)
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    assert env["KAFKA_CONFIG_DIR"] == "/tmp/kafka"
    assert env["KAFKA_HEAP_OPTS"] == f"-Xms{pool['heap']} -Xmx{pool['heap']}"
    assert container["resources"] == pool["resources"]
    cluster_id = next(e for e in container["env"] if e["name"] == "KAFKA_CLUSTER_ID")
    assert cluster_id["valueFrom"]["secretKeyRef"]["name"] == "questline-kafka-cluster-id"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert mounts == {"/var/lib/kafka/data": "data", "/tmp": "tmp"}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    spec = sts["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsUser"] == 1001
    assert spec["enableServiceLinks"] is False  # a Service named kafka-* would inject KAFKA_* settings
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == pool["storage"]["size"]
    # values-kind keeps the claims, as Strimzi's deleteClaim: false does (see the uninstall test below).
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"]["whenDeleted"] == "Retain"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert "tcpSocket" in container[probe], probe


def test_generated_cluster_id_is_16_bytes_of_base64url_and_kept_on_uninstall(render):
    _, resources = render(KIND, PLAIN)
    secret = named(resources, "Secret", "questline-kafka-cluster-id")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    cluster_id = base64.b64decode(secret["data"]["clusterId"]).decode()
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id)
    raw = base64.urlsafe_b64decode(cluster_id + "==")
    assert len(raw) == 16
    # What Java's decoder reads back re-encodes to the same text: no bits dropped.
    assert base64.urlsafe_b64encode(raw).decode().rstrip("=") == cluster_id


# Production runs several pools, which plain mode refuses (test_a_plain_mode_with_several_pools...).
@pytest.mark.parametrize(
    ("values", "sets"),
    [(v, ()) for v in ("values.yaml", "values-kind.yaml", "values-production.yaml")]
    + [(v, PLAIN) for v in ("values.yaml", "values-kind.yaml")],
)
def test_kafka_data_outlives_an_uninstall_like_the_checkpoints_on_hdfs(render, values, sets):
    """The streaming checkpoint (HDFS, whose claims Helm never deletes) holds Kafka offsets: if the
    Kafka volume went with `helm uninstall`, the reinstalled stream finds its offsets gone and stops
    (the first real uninstall and install on the node: "Partition events-2 offset was changed from
    2441 to 0"). So no values file deletes Kafka's claims."""
    files = () if values == "values.yaml" else (values,)
    _, resources = render(files, sets)
    for pool in by_kind(resources, "KafkaNodePool"):
        assert pool["spec"]["storage"].get("deleteClaim") is not True, pool["metadata"]["name"]
    for sts in by_kind(resources, "StatefulSet"):
        policy = sts["spec"].get("persistentVolumeClaimRetentionPolicy", {})
        assert policy.get("whenDeleted", "Retain") == "Retain", sts["metadata"]["name"]


def test_a_given_cluster_id_is_used_as_is(render):
    _, resources = render(KIND, (*PLAIN, "kafka.plain.clusterId=MkU3OEVBNTcwNTJENDM2Qg"))
    secret = named(resources, "Secret", "questline-kafka-cluster-id")
    assert base64.b64decode(secret["data"]["clusterId"]).decode() == "MkU3OEVBNTcwNTJENDM2Qg"


def test_the_topic_job_creates_the_events_topic_of_the_values_with_its_settings(render):
    _, resources = render(("ci/scenario-kafka-plain.yaml",))
    topic = yaml.safe_load((CHART / "ci/scenario-kafka-plain.yaml").read_text())["kafka"]["eventsTopic"]
    script = script_of(topic_job(resources))
    # Named by global.topic, the topic the API and Spark use (= questline_events.TOPIC_EVENTS).
    create = rf'--create --if-not-exists \\\s+--topic "{TOPIC_EVENTS}" --partitions {topic["partitions"]} '
    assert re.search(create + rf"--replication-factor {topic['replicas']}\n", script), script
    pairs = ",".join(f"{k}={v}" for k, v in sorted(topic["config"].items()))
    assert f'--entity-name "{TOPIC_EVENTS}" --add-config "{pairs}"' in script
    assert "6.048e+08" not in script  # whole numbers are printed as integers


def test_the_topic_job_waits_for_the_brokers_and_is_renamed_when_the_topic_changes(render):
    _, resources = render(KIND, PLAIN)
    _, more = render(KIND, (*PLAIN, "kafka.eventsTopic.partitions=12"))
    _, renamed = render(KIND, (*PLAIN, "global.topic=game-events"))
    job, changed = topic_job(resources), topic_job(more)
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})  # a regular Job, not a hook
    assert "wait_for_brokers 300" in script_of(job)
    assert job["metadata"]["name"] != changed["metadata"]["name"]  # Job specs are immutable
    assert "--partitions 12" in script_of(changed)
    assert topic_job(renamed)["metadata"]["name"] not in (job["metadata"]["name"], changed["metadata"]["name"])


def test_plain_mode_admits_clients_of_the_release_and_controllers_between_nodes(render):
    _, resources = render(KIND, PLAIN)
    policy = named(resources, "NetworkPolicy", "questline-kafka")
    (clients, controllers) = policy["spec"]["ingress"]
    assert clients["from"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "questline"}}}]
    assert clients["ports"] == [{"port": 9092, "protocol": "TCP"}]
    assert controllers["ports"] == [{"port": 9093, "protocol": "TCP"}]
    assert controllers["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "kafka"


@pytest.mark.parametrize(
    "sets",
    [
        ("kafka.mode=plain", "kafka.nodePools[0].roles={broker}"),
        ("kafka.mode=operator",),
        ("kafka.mode=plain", "kafka.plain.clusterId=short"),
    ],
    ids=["plain-needs-dual-role", "unknown-mode", "bad-cluster-id"],
)
def test_the_schema_refuses_what_plain_mode_cannot_run(tools, sets):
    from chartlib import template

    result = template(tools, KIND, sets)
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr


def test_a_plain_mode_with_several_pools_is_refused(tools):
    from chartlib import template

    extra = "kafka.nodePools[1].name=more,kafka.nodePools[1].replicas=1,kafka.nodePools[1].roles={broker}"
    result = template(tools, ("ci/scenario-kafka-plain.yaml",), (extra,))
    assert result.returncode != 0


# ---------------------------------------------------------------- helm test pods


@pytest.mark.parametrize("sets", [(), PLAIN], ids=["strimzi", "plain"])
def test_kafka_test_pod_produces_and_consumes_on_the_topic_through_the_bootstrap_service(render, sets):
    _, resources = render(KIND, sets)
    pod = named(resources, "Pod", "questline-kafka-test")
    assert is_helm_test(pod)
    container = pod["spec"]["containers"][0]
    env = env_of(container)
    assert env["TOPIC"] == TOPIC_EVENTS
    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "questline-kafka-bootstrap:9092"
    assert container["image"].startswith("questline/kafka:")
    script = container["command"][-1]
    assert "kafka-console-producer.sh" in script and "kafka-console-consumer.sh" in script
    assert 'grep -qxF "$value"' in script  # the test passes only if its own record came back


def test_streaming_test_pod_waits_for_a_committed_batch_past_its_record(render):
    _, resources = render(KIND)
    pod = named(resources, "Pod", "questline-spark-test")
    assert is_helm_test(pod)
    container = pod["spec"]["containers"][0]
    assert container["image"].startswith("questline/spark:")
    env = env_of(container)
    assert env["QUESTLINE_EVENTS_TOPIC"] == TOPIC_EVENTS
    assert env["QUESTLINE_HDFS_URI"] == "hdfs://questline-hdfs-namenode:8020"
    # kafka-clients is on the gateway JVM's own classpath (--jars would reach only a SparkContext).
    class_path = env["PYSPARK_SUBMIT_ARGS"].split("--driver-class-path ", 1)[1].split()[0].split(":")
    assert any("/kafka-clients-" in jar for jar in class_path)
    script = container["command"][-1]
    compile(script, "pod-spark-stream-progress", "exec")  # the embedded program is valid Python
    assert "settings.checkpoint_dir" in script and "/commits" in script and "/offsets/" in script


def test_streaming_test_pod_goes_with_the_streaming_job(render):
    _, resources = render(KIND, ("sparkApps.streaming.enabled=false",))
    assert not [r for r in resources if r["metadata"]["name"] == "questline-spark-test"]
