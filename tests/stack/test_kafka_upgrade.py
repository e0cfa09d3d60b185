"""A local stack made before Kafka had users keeps its data through `up` (issue 20, item 3).

Kafka's SCRAM admin is written into a new data dir when it is formatted; a data dir formatted
by an older questline has none, and only a client can add one. `up` adds it (the broker once
without authentication on a port no client knows), so the events a stack accepted before the
upgrade, and the offsets its consumers committed, are still there afterwards."""

import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from questline_devkit import process
from questline_devkit.process import free_ports
from questline_stack import settings as stack_settings
from questline_stack.components.kafka import Kafka, _cluster_id
from questline_stack.scratch import end_offsets, records_between

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

RECORDS = 300
GROUP = "questline-upgrade-test"
COORDINATOR_NOT_READY = {
    KafkaError.NOT_COORDINATOR,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
}


def _old_stack(kafka: Kafka) -> dict[int, int]:
    """A data dir as `up` made it before Kafka had users (plaintext, formatted without an admin),
    with RECORDS records on the events topic and a group's committed offsets; those offsets."""
    s = kafka.s
    (kafka.state_home / "data").mkdir(parents=True)
    (kafka.state_home / "config").mkdir()
    old = kafka.state_home / "config" / "old.properties"
    old.write_text(kafka._properties(authenticated=False, client_port=s.kafka_port))
    storage = ["kafka.tools.StorageTool", "format", "--standalone", "-t", _cluster_id(), "-c", str(old)]
    subprocess.run(kafka._java(*storage), check=True, capture_output=True)
    process.spawn(s, "kafka", kafka._java("kafka.Kafka", str(old), heap=s.kafka_heap))
    try:
        return _fill(s)
    finally:
        process.stop(s, "kafka", timeout=60)


def _fill(s) -> dict[int, int]:
    plain = {"bootstrap.servers": s.kafka_bootstrap}
    admin = AdminClient(plain)
    process.wait_until(s, "kafka", lambda: bool(admin.list_topics(timeout=5).brokers))
    topic = NewTopic(s.events_topic, num_partitions=2, replication_factor=1)
    admin.create_topics([topic])[s.events_topic].result(30)
    producer = Producer({**plain, "acks": "all"})
    for n in range(RECORDS):
        producer.produce(s.events_topic, key=str(n % 7).encode(), value=f"record-{n}".encode())
    assert producer.flush(30) == 0
    committed = {0: 40, 1: 25}
    consumer = Consumer({**plain, "group.id": GROUP, "enable.auto.commit": False})
    offsets = [TopicPartition(s.events_topic, p, o) for p, o in committed.items()]
    # A broker that just started may still be loading its offsets topic (NOT_COORDINATOR and
    # the like are retriable): commit as a client does, until the coordinator answers.
    deadline = time.monotonic() + 120
    while True:
        try:
            consumer.commit(offsets=offsets, asynchronous=False)
            break
        except KafkaException as exc:
            if exc.args[0].code() not in COORDINATOR_NOT_READY or time.monotonic() > deadline:
                raise
            time.sleep(1)
    consumer.close()
    return committed


def test_up_adds_the_users_to_a_data_dir_from_before_them_and_keeps_records_and_offsets(tmp_path, monkeypatch):
    kafka_port, controller_port = free_ports(2)
    monkeypatch.setenv("QUESTLINE_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("QUESTLINE_KAFKA_PORT", str(kafka_port))
    monkeypatch.setenv("QUESTLINE_KAFKA_CONTROLLER_PORT", str(controller_port))
    s = stack_settings.load()
    kafka = Kafka(s)
    kafka.fetch()
    committed = _old_stack(kafka)

    kafka.start()  # what `questline-stack up` does
    try:
        records = records_between(s, s.events_topic, {}, end_offsets(s, s.events_topic))
        assert sorted(value for _key, value in records) == sorted(f"record-{n}".encode() for n in range(RECORDS))
        consumer = Consumer(s.kafka_config(**{"group.id": GROUP, "enable.auto.commit": False}))
        offsets = consumer.committed([TopicPartition(s.events_topic, p) for p in committed], timeout=10)
        consumer.close()
        assert {tp.partition: tp.offset for tp in offsets} == committed
        # ...and from now on the doors are shut: no metadata without a password.
        anonymous = AdminClient({"bootstrap.servers": s.kafka_bootstrap, "socket.timeout.ms": 3000})
        with pytest.raises(Exception, match=r"transport failure|Authentication|Timed out"):
            anonymous.list_topics(timeout=5)
    finally:
        kafka.stop()
