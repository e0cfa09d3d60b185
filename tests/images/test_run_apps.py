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
        # Exercises the ___ -> - and __ -> _ rules of the env contract on a real key.
        "KAFKA_NUM_PARTITIONS": "2",
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
    assert "num.partitions=2" in config
    assert podman.exec(name, "touch", "/opt/kafka/x").returncode != 0
    podman.remove(name)
