"""The transform library on Kafka-shaped DataFrames, no servers (local Spark only)."""

import copy
import json

import pytest
from pyspark.sql import functions as F
from spark_events import PAYLOADS, make_event, retried_event_id

from questline_events import (
    ERASE_PLAYER,
    ERASURE_REQUESTS,
    EVENT_FAMILIES,
    MAX_EVENT_BYTES,
    EventValidationError,
    validate_event,
)
from questline_spark import tables
from questline_spark.transforms import count_rows, drop_repeated_events, parse_records, route, table_rows


def _reasons(kafka_rows, *values):
    rows = parse_records(kafka_rows(*values)).orderBy("kafka_offset").select("reason").collect()
    return [r["reason"] for r in rows]


def _python_verdict(event) -> bool:
    try:
        validate_event(event)
    except EventValidationError:
        return False
    return True


def _mutations():
    """Valid events and small mutations of them, valid or not, for a differential check."""
    for event_type in PAYLOADS:
        base = make_event(event_type)
        yield base
        for field in base:
            removed = copy.deepcopy(base)
            del removed[field]
            yield removed
            for wrong in (5, "x", None, {}, [], 1.5, True):
                changed = copy.deepcopy(base)
                changed[field] = wrong
                yield changed
        for field in base["payload"]:
            for wrong in (5, "x", None, -1, 10**6, "", "a" * 65, "tab\there"):
                changed = copy.deepcopy(base)
                changed["payload"][field] = wrong
                yield changed
        for field in base["request"]:
            for wrong in (5, None, "h" * 1025):
                changed = copy.deepcopy(base)
                changed["request"][field] = wrong
                yield changed
        yield {**base, "unexpected": 1}
        yield {**base, "payload": {**base["payload"], "unexpected": 1}}
        yield {**base, "request": {**base["request"], "cookie": "x"}}
        yield {**base, "player_id": "has space"}
        yield {**base, "event_id": "not-a-uuid"}
        yield {**base, "description": {"nested": "object"}}
        yield {**base, "payload": {**base["payload"], "x: STRING, y": 1}}
        # Keys Spark quotes in its type rendering, beside or instead of a declared one.
        request = {k: v for k, v in base["request"].items() if k != "user_agent"}
        for key in ("user-agent", "user_agent`", "höst", "user_agent: STRING, `x"):
            yield {**base, "request": {**request, key: "curl/8"}}


def test_spark_accepts_exactly_the_events_the_python_validator_accepts(kafka_rows):
    events = list(_mutations())
    parsed = parse_records(kafka_rows(*events)).orderBy("kafka_offset").select("reason").collect()
    disagreements = [
        (json.dumps(event), row["reason"])
        for event, row in zip(events, parsed, strict=True)
        if _python_verdict(event) != (row["reason"] is None)
    ]
    assert len(events) > 300
    assert disagreements == []


def test_each_kind_of_bad_record_gets_its_quarantine_reason(kafka_rows):
    assert _reasons(
        kafka_rows,
        "x" * (MAX_EVENT_BYTES + 1),
        "not json at all",
        b"\xff\xfe\x00 not utf-8",
        "[1, 2, 3]",
        make_event(event_type="summon_dragon"),
        {k: v for k, v in make_event().items() if k != "event_type"},
        make_event(payload={"item": "sword", "strength": "very strong"}),
        make_event(timestamp="2026-13-45T99:00:00Z"),
        make_event(),
    ) == [
        "too_large",
        "not_json",
        "not_json",
        "not_json",
        "unknown_event_type",
        "unknown_event_type",
        "schema_violation",
        "schema_violation",
        None,
    ]


def test_valid_event_is_typed_and_partitioned_by_its_utc_server_date(kafka_rows):
    event = make_event("purchase_sword", timestamp="2026-11-27T23:59:58.5Z")
    row = parse_records(kafka_rows(event)).first()
    assert row["reason"] is None
    assert (row["event_id"], row["family"], row["event_date"]) == (event["event_id"], "purchases", "2026-11-27")
    assert (row["strength"], row["price"], row["item_type"]) == (42, 100, "katana")
    assert (row["host"], row["user-agent"], row["accept"]) == ("questline.localtest.me", "curl/8", "*/*")
    assert row["timestamp"].isoformat() == "2026-11-27T23:59:58.500000"
    assert json.loads(row["raw_json"]) == event


def test_repeated_event_id_keeps_one_row_the_first_on_kafka(kafka_rows):
    first = make_event(event_id=retried_event_id(), description="first")
    retry = make_event(event_id=retried_event_id(), description="retry")
    unique = drop_repeated_events(parse_records(kafka_rows(first, retry, make_event(), "junk", "junk")))
    rows = unique.where(F.col("event_id") == retried_event_id()).collect()
    assert [r["description"] for r in rows] == ["first"]
    assert unique.count() == 4  # both junk records stay: quarantine keeps every bad record


def test_routing_puts_each_event_in_events_and_its_family_table_and_an_erasure_request_in_its_own(kafka_rows):
    erasure = make_event(ERASE_PLAYER, payload={"requested_by": "service:support"})
    values = [make_event(t) for t in PAYLOADS] + [erasure, "junk"]
    routed = route(drop_repeated_events(parse_records(kafka_rows(*values))))
    counts = routed.agg(*count_rows()).first().asDict()
    expected_family = {f: sum(t in types for t in PAYLOADS) for f, types in EVENT_FAMILIES.items()}
    assert counts == {"events": len(PAYLOADS), **expected_family, "erasure_requests": 1, "quarantine": 1}
    (request,) = table_rows(routed, ERASURE_REQUESTS).collect()
    assert (request.player_id, request.requested_by) == ("player-1", "service:support")
    for name, spec in tables.table_specs().items():
        rows = table_rows(routed, name)
        assert rows.columns == spec.column_names
        assert rows.count() == counts[name]
        # Columns the table does not declare stay null in its rows (they ride along in its files).
        foreign = [c for c in routed.columns if c not in spec.column_names and not c.startswith("target_")]
        stray = F.greatest(*(F.col(c).isNotNull() for c in foreign))
        assert routed.where((F.col("target_table") == name) & stray).count() == 0


def test_legacy_analyst_columns_exist_on_the_legacy_tables():
    legacy = {"host", "user-agent", "accept", "event_type", "description", "timestamp"}
    specs = tables.table_specs()
    for name in ("purchases", "joins", "declarations"):
        assert legacy <= set(specs[name].column_names), name
    assert "strength" in specs["purchases"].column_names


def test_quarantine_keeps_raw_bytes_and_kafka_coordinates(kafka_rows):
    routed = route(parse_records(kafka_rows(b"\xff{broken", topic="events", partition=3)))
    row = table_rows(routed, "quarantine").first()
    assert (bytes(row["raw_value"]), row["raw_text"], row["reason"]) == (b"\xff{broken", None, "not_json")
    assert (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"]) == ("events", 3, 0)
    assert row["received_date"] == "2026-11-27"


@pytest.mark.parametrize("table", sorted(tables.table_specs()))
def test_trino_ddl_is_idempotent_and_partitioned(table):
    spec = tables.table_specs()[table]
    ddl = tables.trino_create_table(spec, f"hive.questline.{table}", f"hdfs://nn:8020/w/{table}")
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS hive.questline.")
    assert f"partitioned_by = ARRAY['{spec.partition_column}']" in ddl
    assert ddl.count('" ') == len(spec.column_names)
