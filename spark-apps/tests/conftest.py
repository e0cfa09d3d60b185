"""Fixtures for the Spark unit tests: a small local session and Kafka-shaped rows."""

import datetime as dt
import json

import pytest
from pyspark.sql import SparkSession
from pyspark.sql.types import BinaryType, IntegerType, LongType, StringType, StructField, StructType, TimestampType

from questline_events import derive_event_id, new_event_id, utc_timestamp

# Exactly the columns the Spark Kafka source produces.
KAFKA_SOURCE = StructType(
    [
        StructField("key", BinaryType()),
        StructField("value", BinaryType()),
        StructField("topic", StringType()),
        StructField("partition", IntegerType()),
        StructField("offset", LongType()),
        StructField("timestamp", TimestampType()),
        StructField("timestampType", IntegerType()),
    ]
)

PAYLOADS = {
    "default": {},
    "purchase_sword": {"item": "sword", "item_type": "katana", "strength": 42, "price": 100},
    "purchase_horse": {"item": "horse", "strength": 7},
    "join_guild": {"guild_name": "knights"},
    "leave_guild": {"guild_name": "knights"},
    "declare_war": {"guild_name": "knights", "target_guild": "orcs"},
    "declare_peace": {"guild_name": None, "target_guild": "orcs"},
}


def make_event(event_type: str = "purchase_sword", **overrides) -> dict:
    """A valid event as the API would put it on Kafka."""
    event = {
        "event_id": new_event_id(),
        "event_type": event_type,
        "schema_version": 1,
        "timestamp": utc_timestamp(dt.datetime(2026, 11, 27, 23, 59, 58, 123456, tzinfo=dt.UTC)),
        "source": "v1",
        "player_id": "player-1",
        "client_event_id": None,
        "client_time": None,
        "description": f"{event_type} by player-1",
        "request": {"host": "questline.localtest.me", "user_agent": "curl/8", "accept": "*/*"},
        "payload": PAYLOADS.get(event_type, {}),
    }
    event.update(overrides)
    return event


def retried_event_id() -> str:
    return derive_event_id("player-1", "retry-key")


@pytest.fixture(scope="session")
def spark():
    session = (
        SparkSession.builder.master("local[1]")
        .appName("questline-spark-unit-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "512m")
        # Fail instead of silently running interpreted when generated code is too big.
        .config("spark.sql.codegen.fallback", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture
def kafka_rows(spark):
    """Build a DataFrame shaped like the Kafka source from values (dict, str or bytes)."""

    def build(*values, topic: str = "events", partition: int = 0):
        start = dt.datetime(2026, 11, 27, 23, 59, 59, tzinfo=dt.UTC)
        rows = []
        for offset, value in enumerate(values):
            if isinstance(value, dict):
                value = json.dumps(value)
            if isinstance(value, str):
                value = value.encode()
            rows.append((None, bytearray(value), topic, partition, offset, start + dt.timedelta(seconds=offset), 0))
        return spark.createDataFrame(rows, KAFKA_SOURCE)

    return build
