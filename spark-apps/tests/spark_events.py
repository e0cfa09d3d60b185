"""Events and Kafka-shaped rows for the Spark tests.

A module with its own name, not conftest: test directories of other packages
have a conftest too, and `from conftest import ...` would reach whichever one
Python imported first.
"""

import datetime as dt

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
