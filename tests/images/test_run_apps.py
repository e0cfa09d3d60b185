"""The game-api, kafka and spark images started in real containers (read-only root, their
non-root user), asserted from outside."""

import json
import uuid

import pytest
from containers import http_get, port, volume

pytestmark = pytest.mark.images

KAFKA_PORT, KAFKA_CONTROLLER_PORT, API_PORT = port(92), port(93), port(0)


def test_every_image_runs_as_a_fixed_non_root_uid(podman):
    from questline_images import specs

    for name in specs.NAMES:
        user = podman.user(podman.image(name))
        uid, _, gid = user.partition(":")
        assert uid.isdigit() and int(uid) > 0, f"{name}: USER {user!r} is not a numeric non-root uid"
        assert gid.isdigit() and int(gid) > 0, f"{name}: USER {user!r} has no numeric non-root gid"


def test_game_api_default_command_answers_healthz_without_kafka(podman):
    ref = podman.image("game-api")
    env = {"QUESTLINE_API_BIND": f"127.0.0.1:{API_PORT}", "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    name = podman.start("qi-game-api", ref, env=env)
    url = f"http://127.0.0.1:{API_PORT}"
    podman.wait(name, lambda: http_get(f"{url}/healthz")[0] == 200, "answering /healthz", timeout=60)
    status, body = http_get(f"{url}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "alive"}
    # Not ready without Kafka: readiness, not liveness, depends on it.
    assert http_get(f"{url}/readyz", timeout=15)[0] == 503
    assert podman.exec(name, "id", "-u").stdout.strip() == "10001"
    podman.remove(name)


def _kafka_env() -> dict[str, str]:
    listeners = f"PLAINTEXT://127.0.0.1:{KAFKA_PORT},CONTROLLER://127.0.0.1:{KAFKA_CONTROLLER_PORT}"
    return {
        "KAFKA_LISTENERS": listeners,
        "KAFKA_ADVERTISED_LISTENERS": listeners,
        "KAFKA_CONTROLLER_QUORUM_BOOTSTRAP_SERVERS": f"127.0.0.1:{KAFKA_CONTROLLER_PORT}",
        "KAFKA_CLUSTER_ID": "cXVlc3RsaW5lLWltYWdlcw",
        "KAFKA_HEAP_OPTS": "-Xmx384m -Xms384m",
        "KAFKA_NUM_PARTITIONS": "2",
        # The ___ -> - and __ -> _ rules of the env contract (Kafka only warns about an unknown key).
        "KAFKA_QUESTLINE___TEST__KEY_NAME": "1",
    }


def _admin():
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": f"127.0.0.1:{KAFKA_PORT}", "socket.timeout.ms": 3000})


def _kafka_ready() -> bool:
    return bool(_admin().list_topics(timeout=3).brokers)


def _consume_all(topic: str, expected: int) -> list[bytes]:
    from confluent_kafka import Consumer

    consumer = Consumer(
        {
            "bootstrap.servers": f"127.0.0.1:{KAFKA_PORT}",
            "group.id": f"qi-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(120):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                values.append(message.value())
            if len(values) >= expected:
                break
    finally:
        consumer.close()
    return values


def test_kafka_serves_produce_and_consume_in_kraft_mode_and_keeps_data_across_a_restart(podman, tmp_path):
    from confluent_kafka import Producer
    from confluent_kafka.admin import NewTopic

    ref = podman.image("kafka")
    data = volume(tmp_path, "kafka-data", 1001)
    volumes = {str(data): "/var/lib/kafka/data"}
    name = podman.start("qi-kafka", ref, env=_kafka_env(), volumes=volumes)
    podman.wait(name, _kafka_ready, "serving metadata")
    meta = (data / "meta.properties").read_text()
    assert "cluster.id=cXVlc3RsaW5lLWltYWdlcw" in meta

    topic = "qi-events"
    admin = _admin()  # kept alive until the futures resolve
    for future in admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)]).values():
        future.result(30)
    producer = Producer({"bootstrap.servers": f"127.0.0.1:{KAFKA_PORT}", "acks": "all"})
    sent = [f"event-{i}".encode() for i in range(50)]
    for value in sent:
        producer.produce(topic, value)
    assert producer.flush(30) == 0
    assert _consume_all(topic, len(sent)) == sent

    podman.stop(name)
    name = podman.start("qi-kafka", ref, env=_kafka_env(), volumes=volumes)
    podman.wait(name, _kafka_ready, "serving metadata after the restart")
    assert "formatting" not in podman.logs(name), "the restarted broker formatted its data dir again"
    assert (data / "meta.properties").read_text() == meta
    assert _consume_all(topic, len(sent)) == sent
    # The generated configuration carries the mapped variable; the root filesystem stayed read-only.
    config = podman.exec(name, "cat", "/tmp/kafka/server.properties").stdout
    assert "num.partitions=2" in config.splitlines()
    assert "questline-test_key.name=1" in config.splitlines()
    assert podman.exec(name, "touch", "/opt/kafka/x").returncode != 0
    podman.remove(name)


SPARK_JOB = """\
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("questline-image-test").getOrCreate()
total = spark.range(1, 1001, numPartitions=4).selectExpr("sum(id) AS s").collect()[0]["s"]
print(f"QI_RESULT={total}", flush=True)
spark.stop()
"""


@pytest.fixture
def spark_dirs(tmp_path):
    job = tmp_path / "job"
    job.mkdir()
    (job / "job.py").write_text(SPARK_JOB)
    return {str(job): "/job:ro", str(volume(tmp_path, "work", 185)): "/opt/spark/work-dir"}


def test_spark_driver_command_runs_a_job(podman, spark_dirs):
    ref = podman.image("spark")
    result = podman.run(
        ref, "driver", "--master", "local[2]", "/job/job.py",
        env={"SPARK_DRIVER_BIND_ADDRESS": "127.0.0.1"}, volumes=spark_dirs,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "QI_RESULT=500500" in result.stdout


def test_spark_executor_command_registers_with_a_driver_and_runs_its_tasks(podman, spark_dirs):
    """A driver with no executors of its own (a standalone master without workers), and one
    executor started the way Spark's Kubernetes scheduler starts executor pods: `executor` and
    SPARK_* variables. The job can only finish if that executor ran its tasks."""
    ref = podman.image("spark")
    master_port, driver_port = port(77), port(78)
    master = podman.start(
        "qi-spark-master", ref, "spark-class", "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", str(master_port), "--webui-port", str(port(79)),
        volumes=spark_dirs,
    )  # fmt: skip
    podman.wait(master, lambda: "I have been elected leader" in podman.logs(master), "leading")
    driver = podman.start(
        "qi-spark-driver", ref, "driver", "--master", f"spark://127.0.0.1:{master_port}",
        "--conf", f"spark.driver.port={driver_port}", "--conf", "spark.driver.host=127.0.0.1",
        "--conf", "spark.cores.max=1", "/job/job.py",
        env={"SPARK_DRIVER_BIND_ADDRESS": "127.0.0.1"}, volumes=spark_dirs,
    )  # fmt: skip
    podman.wait(driver, lambda: "Connected to Spark cluster" in podman.logs(driver), "registered with the master")
    executor_env = {
        "SPARK_DRIVER_URL": f"spark://CoarseGrainedScheduler@127.0.0.1:{driver_port}",
        "SPARK_EXECUTOR_ID": "1",
        "SPARK_EXECUTOR_CORES": "1",
        "SPARK_EXECUTOR_MEMORY": "512m",
        "SPARK_APPLICATION_ID": "questline-image-test",
        "SPARK_EXECUTOR_POD_IP": "127.0.0.1",
        "SPARK_EXECUTOR_POD_NAME": "qi-spark-executor",
        "SPARK_RESOURCE_PROFILE_ID": "0",
        "SPARK_JAVA_OPT_0": f"-Dspark.driver.port={driver_port}",
    }
    executor = podman.start("qi-spark-executor", ref, "executor", env=executor_env, volumes=spark_dirs)
    podman.wait(driver, lambda: "QI_RESULT=500500" in podman.logs(driver), "finishing the job", timeout=240)
    assert "Successfully registered with driver" in podman.logs(executor)
    for name in (driver, executor, master):
        podman.remove(name)


def test_each_oci_archive_holds_its_image_under_the_chart_tag(podman):
    """What `make node-load` imports: $QUESTLINE_CACHE/images/<name>.oci.tar, named questline/<name>:<tag>."""
    import subprocess

    from questline_images import settings, specs

    s = settings.load()
    for name in specs.NAMES:
        image = specs.spec(name)
        podman.image(name)
        archive = s.archive(name)
        assert archive.is_file(), f"{archive} is missing: run `make images IMAGE={name}`"
        result = subprocess.run(
            ["skopeo", "inspect", f"oci-archive:{archive}:{image.repository}:{image.tag}"],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        labels = json.loads(result.stdout)["Labels"]
        assert labels["org.opencontainers.image.version"] == image.tag


def test_game_api_is_ready_with_the_kafka_image_and_puts_an_event_on_it(podman, tmp_path):
    from confluent_kafka.admin import NewTopic

    from questline_events import TOPIC_EVENTS

    kafka = podman.start(
        "qi-kafka-for-api", podman.image("kafka"), env=_kafka_env(),
        volumes={str(volume(tmp_path, "kafka-data", 1001)): "/var/lib/kafka/data"},
    )  # fmt: skip
    podman.wait(kafka, _kafka_ready, "serving metadata")
    admin = _admin()
    for future in admin.create_topics([NewTopic(TOPIC_EVENTS, num_partitions=1, replication_factor=1)]).values():
        future.result(30)
    env = {"QUESTLINE_API_BIND": f"127.0.0.1:{API_PORT}", "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{KAFKA_PORT}"}
    api = podman.start("qi-game-api-kafka", podman.image("game-api"), env=env)
    url = f"http://127.0.0.1:{API_PORT}"
    podman.wait(api, lambda: http_get(f"{url}/readyz")[0] == 200, "ready with Kafka", timeout=90)
    status, body = http_get(f"{url}/purchase_a_sword?sword_type=katana", timeout=15)
    assert status < 300, body
    events = [json.loads(v) for v in _consume_all(TOPIC_EVENTS, 1)]
    assert len(events) == 1 and "katana" in json.dumps(events[0]), events
    podman.remove(api)
    podman.remove(kafka)
