"""values.schema.json turns mistakes in values into errors that name the value and
what is wrong, instead of silent defaults."""

import pytest
from chartlib import template

pytestmark = pytest.mark.charts

BAD_VALUES = {
    "a typo in a key": ("api.replicas=2", ["api", "replicas"]),
    "an unknown top-level key": ("apii.enabled=true", ["apii"]),
    "a password in values": ("hiveMetastore.database.password=hunter2", ["password"]),
    "an unpinned image tag": ("trino.image.tag=latest", ["trino", "/image/tag"]),
    "a log level that does not exist": ("api.logLevel=VERBOSE", ["/logLevel", "must be one of", "DEBUG"]),
    "a topic with no partitions": ("kafka.eventsTopic.partitions=0", ["partitions"]),
    "a memory quantity without unit": (
        "hdfs.namenode.resources.limits.memory=768",
        ["/namenode/resources/limits/memory"],
    ),
    "a heap size Java does not read": ("trino.coordinator.heap=1.5GB", ["heap"]),
    "an API setting the API does not read": ("api.extraSettings.KAFKA_ACKS=all", ["KAFKA_ACKS"]),
    "an unknown anti-affinity mode": ("hdfs.datanode.antiAffinity=always", ["/datanode/antiAffinity", "preferred"]),
}


@pytest.mark.parametrize("assignment, words", BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_bad_value_is_rejected_with_a_message_naming_it(tools, assignment, words):
    result = template(tools, sets=(assignment,))
    assert result.returncode != 0, f"--set {assignment} was accepted"
    message = result.stderr
    assert "values don't meet the specifications of the schema" in message, message
    for word in words:
        assert word in message, f"{word!r} not in:\n{message}"


def test_resources_without_limits_are_rejected(tools):
    result = template(tools, sets=("api.resources.limits=null",))
    assert result.returncode != 0
    assert "limits" in result.stderr


def test_good_overrides_are_accepted(tools):
    result = template(
        tools, sets=("api.replicaCount=3", "trino.worker.replicas=2", "api.extraSettings.QUESTLINE_API_RETRY_AFTER=5")
    )
    assert result.returncode == 0, result.stderr
