"""The chart's plain-mode Kafka with users and ACLs, run for real without a cluster: the rendered
StatefulSet's env through images/kafka/entrypoint.sh (the image's entry point, on this machine's
JVM and the image's jars from Maven), then the rendered topic Job's script twice (it must be
idempotent) and the Kafka helm test's script, then what each user may do.

Kubernetes' part is imitated: `$(VAR)` references are expanded from the env before them, Secret
references get the rendered Secrets' values, the pod's DNS names become 127.0.0.1 on free ports.
A `stack` test (a broker JVM, minutes); `make charts-check` leaves it out."""

import base64
import re
import subprocess
import time
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_events import SPARK_KAFKA_GROUP_PREFIX, TOPIC_EVENTS
from questline_settings.kafka import KafkaCredentials, client_config

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
IMAGE = REPO / "images" / "kafka"
TOOLS = ("kafka-topics.sh", "kafka-console-producer.sh", "kafka-console-consumer.sh", "kafka-get-offsets.sh")


def _kafka_home(root: Path) -> Path:
    """/opt/kafka as images/kafka/Dockerfile lays it out: the jars of its pom, bin/, config/."""
    v = versions()["kafka"]
    coords = [f"org.apache.kafka:kafka_{v['scala']}:{v['version']}", f"org.apache.kafka:kafka-tools:{v['version']}"]
    libs = artifacts.cache_dir() / "jars" / f"kafka-image-{v['version']}"
    artifacts.resolve_jars("kafka-image", [*coords, *v["logging_jars"]], libs)
    home = root / "opt-kafka"
    (home / "bin").mkdir(parents=True)
    (home / "config").mkdir()
    (home / "libs").symlink_to(libs)
    (home / "bin" / "kafka-entrypoint").symlink_to(IMAGE / "entrypoint.sh")
    (home / "bin" / "kafka-cli").symlink_to(IMAGE / "kafka-cli.sh")
    for tool in (*TOOLS, "kafka-configs.sh", "kafka-acls.sh"):
        (home / "bin" / tool).symlink_to("kafka-cli")
    for name in ("log4j2.properties", "tools-log4j2.properties"):
        (home / "config" / name).write_text((IMAGE / name).read_text())
    return home


def _env(container, secrets: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for e in container["env"]:
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m[1], m[0]), e["value"])
        elif ref := e.get("valueFrom", {}).get("secretKeyRef"):
            env[e["name"]] = secrets[ref["name"]][ref["key"]]
    return {**env, **extra}


@pytest.fixture(scope="module")
def plain_kafka(render, tmp_path_factory):
    root = tmp_path_factory.mktemp("kafka-plain")
    home = _kafka_home(root)
    _, resources = render((), ("kafka.mode=plain",))
    secrets = {
        r["metadata"]["name"]: {k: base64.b64decode(v).decode() for k, v in r["data"].items()}
        for r in resources
        if r["kind"] == "Secret"
    }
    port, controller = process.free_port(), process.free_port()
    java = Path(versions()["java"]["default_home"]) / "bin"
    base = {"PATH": f"{home / 'bin'}:{java}:/usr/bin:/bin", "KAFKA_HOME": str(home), "HOME": str(root)}
    (sts,) = [r for r in resources if r["kind"] == "StatefulSet" and r["metadata"]["name"] == "questline-dual"]
    broker_env = _env(
        sts["spec"]["template"]["spec"]["containers"][0],
        secrets,
        {
            **base,
            "KAFKA_NODE_ID": "0",
            "KAFKA_LISTENERS": f"CLIENT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "KAFKA_ADVERTISED_LISTENERS": f"CLIENT://127.0.0.1:{port}",
            "KAFKA_CONTROLLER_QUORUM_VOTERS": f"0@127.0.0.1:{controller}",
            "KAFKA_LOG_DIRS": str(root / "data"),
            "KAFKA_CONFIG_DIR": str(root / "config"),
            "KAFKA_HEAP_OPTS": "-Xmx384m",
        },
    )
    log = root / "broker.log"
    with open(log, "wb") as out:
        broker = subprocess.Popen(
            [home / "bin" / "kafka-entrypoint"], env=broker_env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 180
        while not process.port_open("127.0.0.1", port):
            assert broker.poll() is None, f"the broker exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"the broker did not listen within 180 s:\n{log.read_text()[-3000:]}"
            time.sleep(1)

        def run_script(resource) -> subprocess.CompletedProcess:
            spec = pod_spec(resource)
            container = spec["containers"][0]
            scratch = root / "tmp" / resource["metadata"]["name"]
            scratch.mkdir(parents=True)
            script = container["command"][-1].replace("/tmp/", f"{scratch}/")
            env = _env(container, secrets, {**base, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"})
            return subprocess.run(["sh", "-ec", script], env=env, capture_output=True, text=True, timeout=420)

        yield {
            "bootstrap": f"127.0.0.1:{port}",
            "resources": resources,
            "secrets": secrets,
            "run": run_script,
            "log": log,
        }
    finally:
        broker.terminate()
        broker.wait(60)


def pod_spec(resource):
    return resource["spec"] if resource["kind"] == "Pod" else resource["spec"]["template"]["spec"]


def _user(kafka, role: str, **extra) -> dict:
    name = f"questline-kafka-{role}"
    return client_config(kafka["bootstrap"], KafkaCredentials(name, kafka["secrets"][name]["password"]), **extra)


def _produce(config: dict) -> KafkaError | None:
    reports: list = []
    producer = Producer({**config, "message.timeout.ms": 15_000})
    producer.produce(TOPIC_EVENTS, b"plain-mode test", on_delivery=lambda err, _msg: reports.append(err))
    producer.flush(30)
    assert reports, "no delivery report within 30 s"
    return reports[0]


def test_the_topic_job_twice_and_the_helm_test_pass_and_each_user_gets_only_its_rights(plain_kafka):
    (job,) = [r for r in plain_kafka["resources"] if r["kind"] == "Job" and "-kafka-topics-" in r["metadata"]["name"]]
    outputs = []
    for attempt in (1, 2):  # idempotent: a rerun (an upgrade, a retry) succeeds too
        result = plain_kafka["run"]({**job, "metadata": {"name": f"topics-{attempt}"}})
        assert result.returncode == 0, f"topic Job run {attempt}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        outputs.append(result.stdout)
    assert "Adding ACLs" in outputs[0] and "already exists" in outputs[1]
    (test_pod,) = [
        r for r in plain_kafka["resources"] if r["kind"] == "Pod" and r["metadata"]["name"] == "questline-kafka-test"
    ]
    result = plain_kafka["run"](test_pod)
    assert result.returncode == 0 and "consumed it back" in result.stdout, result.stderr[-2000:]

    assert _produce(_user(plain_kafka, "api", **{"enable.idempotence": True})) is None
    error = _produce(_user(plain_kafka, "spark"))
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    refused = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}
    for role, want in (("spark", {None}), ("api", refused)):
        consumer = Consumer(
            _user(plain_kafka, role, **{"group.id": f"{SPARK_KAFKA_GROUP_PREFIX}-t", "enable.auto.commit": False})
        )
        got = "nothing"
        try:
            consumer.assign([TopicPartition(TOPIC_EVENTS, p, 0) for p in range(6)])
            for _ in range(30):
                message = consumer.poll(1.0)
                if message is not None:
                    got = message.error().code() if message.error() else None
                    break
        finally:
            consumer.close()
        assert got in want, (role, got)
    with pytest.raises(KafkaException):
        Producer({"bootstrap.servers": plain_kafka["bootstrap"]}).list_topics(timeout=8)
    # The format tool's bootstrap records (the admin's SCRAM keys) are not in the broker's log.
    assert "storedKey" not in plain_kafka["log"].read_text()
    assert not [p for p in plain_kafka["secrets"].values() if p.get("password", "\0") in plain_kafka["log"].read_text()]
