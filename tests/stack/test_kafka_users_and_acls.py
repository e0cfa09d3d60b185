"""Kafka's doors on the real local stack (issue 20, item 3): SASL/SCRAM-SHA-512 users and ACLs.

Anonymous clients and wrong passwords are refused; the API's user may write the events topic and
nothing else; Spark's may read it (in its own consumer groups) and not write. Every test works on
a scratch topic (the local stack grants both users the events topic's rights on `questline-test-*`).
"""

import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from questline_events import SPARK_KAFKA_GROUP_PREFIX
from questline_settings.kafka import KafkaCredentials, client_config
from questline_stack.scratch import Scratch
from questline_stack.settings import KAFKA_ADMIN, KAFKA_API, KAFKA_SPARK

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]

REFUSED = {KafkaError.TOPIC_AUTHORIZATION_FAILED, KafkaError.GROUP_AUTHORIZATION_FAILED}


@pytest.fixture(scope="module")
def scratch(kafka_stack):
    with Scratch(kafka_stack, "kafkaacl", partitions=1) as names:
        yield names


def _produce(config: dict, topic: str, value: bytes) -> KafkaError | None:
    """Produce one record and wait for its delivery report: None if Kafka took it, else the error."""
    reports: list[KafkaError | None] = []
    producer = Producer({**config, "acks": "all", "message.timeout.ms": 10_000})
    producer.produce(topic, value, key=b"acl-test", on_delivery=lambda err, _msg: reports.append(err))
    producer.flush(20)
    assert reports, f"no delivery report for {topic} within 20 s"
    return reports[0]


def _first_fetch(config: dict, topic: str, group: str) -> tuple[bytes | None, KafkaError | None]:
    """Read from offset 0 of partition 0: the first record's value, or the first error."""
    consumer = Consumer({**config, "group.id": group, "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        for _ in range(20):
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    continue
                return None, message.error()
            return message.value(), None
        return None, None
    finally:
        consumer.close()


def _metadata_error(config: dict) -> str | None:
    """None if the client got the cluster's metadata; else what it was told (errors included)."""
    errors: list[str] = []
    client = Producer({**config, "socket.timeout.ms": 5000, "error_cb": lambda err: errors.append(str(err))})
    try:
        client.list_topics(timeout=8)
    except KafkaException as exc:
        client.poll(2)  # serve the error callbacks
        return f"{exc} {errors}"
    return None


def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(kafka_stack):
    anonymous = {"bootstrap.servers": kafka_stack.kafka_bootstrap}
    assert _metadata_error(anonymous) is not None, "an anonymous client read the cluster's metadata"
    wrong = client_config(kafka_stack.kafka_bootstrap, KafkaCredentials(KAFKA_API, "not-the-password"))
    refused = _metadata_error(wrong)
    assert refused is not None and "Authentication failed" in refused, refused
    # The controller listener (loopback) asks for a password too: an anonymous client gets nothing there.
    controller = {"bootstrap.servers": f"{kafka_stack.host}:{kafka_stack.kafka_controller_port}"}
    assert _metadata_error(controller) is not None


def test_the_api_user_may_write_the_events_topic_and_nothing_more(kafka_stack, scratch):
    api = kafka_stack.kafka_config(KAFKA_API, **{"enable.idempotence": True})
    assert _produce(api, scratch.topic, b"written by the API") is None  # idempotent, acks=all
    value, error = _first_fetch(api, scratch.topic, f"{SPARK_KAFKA_GROUP_PREFIX}-acl-{uuid.uuid4().hex[:8]}")
    assert value is None and error is not None and error.code() in REFUSED, (value, error)
    # Not another topic (one only the admin uses), and it creates none.
    other = Scratch(kafka_stack, "kafkaaclother", partitions=1)
    other.topic = f"questline-stack-acl-{uuid.uuid4().hex[:8]}"  # outside the scratch prefix the API may write
    with other:
        error = _produce(api, other.topic, b"not allowed")
        assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
    admin_as_api = AdminClient(api)  # must outlive its futures
    futures = admin_as_api.create_topics([NewTopic(f"questline-test-acl-{uuid.uuid4().hex[:8]}", 1, 1)])
    for future in futures.values():
        with pytest.raises(KafkaException, match="AUTHORIZATION_FAILED"):
            future.result(30)


def test_the_spark_user_may_read_in_its_own_groups_and_not_write(kafka_stack, scratch):
    admin = kafka_stack.kafka_config(KAFKA_ADMIN)
    marker = f"for spark {uuid.uuid4().hex}".encode()
    assert _produce(admin, scratch.topic, marker) is None
    spark = kafka_stack.kafka_config(KAFKA_SPARK)
    values = []
    consumer = Consumer({**spark, "group.id": f"{SPARK_KAFKA_GROUP_PREFIX}-acl-test", "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(scratch.topic, 0, 0)])
        for _ in range(30):
            message = consumer.poll(1.0)
            if message is not None and not message.error():
                values.append(message.value())
                if marker in values:
                    break
    finally:
        consumer.close()
    assert marker in values
    error = _produce(spark, scratch.topic, b"written by Spark")
    assert error is not None and error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, error
    # Joining a consumer group outside Spark's prefix is refused.
    consumer = Consumer({**spark, "group.id": f"someone-else-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe([scratch.topic])
        errors = []
        for _ in range(20):
            message = consumer.poll(1.0)
            if message is not None:
                errors.append(message.error() and message.error().code())
                break
    finally:
        consumer.close()
    assert errors == [KafkaError.GROUP_AUTHORIZATION_FAILED]
