"""Scenario 5: bad records written straight to the events topic, past the API.

Each lands in the quarantine table with its reason (questline_events.QUARANTINE_REASONS),
found by its Kafka partition and offset; the good events sent in between land in `events`;
the streaming job keeps running throughout (same process, no restart).
"""

import json
import os
import uuid

import pytest
from confluent_kafka import Producer
from faultlib import record_row, wait_for

from questline_events import MAX_EVENT_BYTES, QUARANTINE_REASONS, TOPIC_EVENTS, new_event_id, utc_timestamp
from questline_events.schema import validate_event

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1800)]


def _event(player: str, **overrides) -> dict:
    event = {
        "event_id": new_event_id(),
        "event_type": "purchase_sword",
        "schema_version": 1,
        "timestamp": utc_timestamp(),
        "source": "v1",
        "player_id": player,
        "description": "bad-records scenario",
        "request": {"host": "127.0.0.1", "user_agent": "questline-faults", "accept": "*/*"},
        "payload": {"item": "sword", "item_type": "katana", "strength": 5},
    }
    event.update(overrides)
    return event


def _bad_records(player: str) -> dict[str, tuple[bytes | None, str]]:
    """name -> (value, the reason the quarantine must give)."""
    valid = _event(player)
    text = json.dumps(valid)
    without_id = {k: v for k, v in valid.items() if k != "event_id"}
    return {
        "binary garbage": (b"\xff\xfe\x00" + os.urandom(256), "not_json"),
        "empty value": (b"", "not_json"),
        "null value (tombstone)": (None, "not_json"),
        "truncated JSON": (text[: len(text) // 2].encode(), "not_json"),
        "JSON array": (json.dumps([valid]).encode(), "not_json"),
        "JSON string": (b'"purchase_sword"', "not_json"),
        "Latin-1 text": ('{"description": "épée"}'.encode("latin-1"), "not_json"),
        "unknown event type": (json.dumps(_event(player, event_type="summon_dragon")).encode(), "unknown_event_type"),
        "no event type": (json.dumps({**valid, "event_type": None}).encode(), "unknown_event_type"),
        "strength as text": (
            json.dumps(_event(player, payload={"item": "sword", "strength": "very"})).encode(),
            "schema_violation",
        ),
        "schema_version as text": (json.dumps(_event(player, schema_version="1")).encode(), "schema_violation"),
        "timestamp not a date": (json.dumps(_event(player, timestamp="yesterday")).encode(), "schema_violation"),
        "no event_id": (json.dumps(without_id).encode(), "schema_violation"),
        "oversize": (json.dumps(_event(player, description="x" * (MAX_EVENT_BYTES + 10))).encode(), "too_large"),
    }


def test_bad_records_on_kafka_land_in_quarantine_with_their_reason_and_the_stream_keeps_running(
    faults_stack, results_file
):
    stack = faults_stack
    pid, restarts = stack.stream_pid(), stack.supervisor.restarts
    assert pid is not None
    player = f"bad{uuid.uuid4().hex[:10]}"
    good = [_event(player, description=f"good {i}") for i in range(3)]
    for event in good:
        validate_event(event)
    bad = _bad_records(player)
    assert {reason for _, reason in bad.values()} == set(QUARANTINE_REASONS)

    placed: dict[str, tuple[int, int]] = {}
    producer = Producer(stack.settings.kafka_config(**{"acks": "all", "message.max.bytes": 2**20}))

    def delivered(name):
        def report(err, message):
            assert err is None, (name, err)
            placed[name] = (message.partition(), message.offset())

        return report

    records = [(name, value) for name, (value, _) in bad.items()]
    records[len(records) // 2 : len(records) // 2] = [(f"good {i}", json.dumps(e).encode()) for i, e in enumerate(good)]
    for name, value in records:
        producer.produce(TOPIC_EVENTS, value=value, key=player.encode(), on_delivery=delivered(name))
    assert producer.flush(60) == 0

    conn = stack.trino()
    where = " OR ".join(f"(kafka_partition = {p} AND kafka_offset = {o})" for p, o in placed.values())

    def quarantined() -> dict[tuple[int, int], str]:
        rows = conn.cursor().execute(f"SELECT kafka_partition, kafka_offset, reason FROM quarantine WHERE {where}")
        return {(p, o): reason for p, o, reason in rows.fetchall()}

    seconds = wait_for(lambda: len(quarantined()) == len(bad), 600, "every bad record in quarantine")
    reasons = quarantined()
    (good_rows,) = conn.cursor().execute("SELECT count(*) FROM events WHERE player_id = ?", [player]).fetchone()
    got = {name: reasons.get(placed[name]) for name in bad}
    print(f"quarantine reasons after {seconds:.0f}s: {got}; good events in `events`: {good_rows}")
    record_row(
        results_file,
        {
            "scenario": "bad records written straight to Kafka",
            "load": f"{len(bad)} bad + {len(good)} good records",
            "faults": ", ".join(bad),
            "acknowledged": len(good),
            "in_tables": good_rows,
            "missing": len(good) - good_rows,
            "duplicated": max(0, good_rows - len(good)),
            "notes": f"{len(reasons)}/{len(bad)} bad records quarantined with the expected reason "
            f"{sum(got[n] == r for n, (_, r) in bad.items())}; stream restarts {stack.supervisor.restarts - restarts}",
        },
    )
    assert got == {name: reason for name, (_, reason) in bad.items()}
    assert good_rows == len(good)
    assert stack.stream_pid() == pid and stack.supervisor.restarts == restarts, "a bad record stopped the stream"
