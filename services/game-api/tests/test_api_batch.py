import pytest

from questline_events import derive_event_id, validate_event


def _purchase(player="lancelot", **extra):
    return {"event_type": "purchase_axe", "player_id": player, "payload": {"item": "axe", "strength": 4}, **extra}


def test_batch_produces_every_item_and_answers_one_result_per_item_in_order(client, producer):
    items = [
        _purchase(client_event_id="c-1", client_time="2026-11-27T10:00:00Z"),
        {"event_type": "join_guild", "player_id": "galahad", "payload": {"guild_name": "Camelot"}},
        {"event_type": "default", "payload": {}},
    ]
    response = client.post("/v1/events:batch", json={"events": items})
    assert response.status_code == 202
    events = producer.events
    assert [e["event_type"] for e in events] == ["purchase_axe", "join_guild", "default"]
    for event in events:
        validate_event(event)
        assert event["source"] == "v1"
    assert response.json["accepted"] == 3
    assert [r["event_id"] for r in response.json["results"]] == [e["event_id"] for e in events]
    assert [r["index"] for r in response.json["results"]] == [0, 1, 2]
    assert events[0]["event_id"] == derive_event_id("lancelot", "c-1")
    assert events[0]["client_time"] == "2026-11-27T10:00:00Z"
    assert [k for k, _ in producer.records] == [b"lancelot", b"galahad", None]


def test_batch_with_idempotency_key_derives_one_stable_id_per_item(client, producer):
    for _ in range(2):
        client.post("/v1/events:batch", json={"events": [_purchase(), _purchase()]}, headers={"Idempotency-Key": "b1"})
    ids = [e["event_id"] for e in producer.events]
    assert ids[:2] == ids[2:]
    assert ids[0] != ids[1]
    assert ids[0] == derive_event_id("lancelot", "b1#0")


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"event_type": "purchase_axe", "payload": {"item": "axe", "strength": -1}}, "events[1].payload.strength"),
        ({"event_type": "teleport", "payload": {}}, "events[1].event_type"),
        ({"event_type": "purchase_axe"}, "events[1].payload"),
        ({"event_type": "default", "payload": {}, "event_id": "mine"}, "events[1]"),
        ({"event_type": "default", "payload": {}, "player_id": "a b"}, "events[1].player_id"),
        ("purchase_axe", "events[1]"),
    ],
)
def test_one_invalid_item_refuses_the_whole_batch(client, producer, item, field):
    response = client.post("/v1/events:batch", json={"events": [_purchase(), item]})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == field
    assert producer.records == []


@pytest.mark.parametrize("body", [{"events": []}, {"events": "x"}, {"items": []}, {"events": [], "extra": 1}, []])
def test_batch_body_must_be_an_object_with_a_non_empty_events_list(client, producer, body):
    response = client.post("/v1/events:batch", json=body)
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "events"
    assert producer.records == []


def test_batch_longer_than_the_limit_is_413(client, producer, settings):
    response = client.post("/v1/events:batch", json={"events": [_purchase()] * (settings.batch_max_events + 1)})
    assert response.status_code == 413
    assert producer.records == []


def test_batch_not_acknowledged_is_503_with_per_item_results(client, producer):
    producer.acknowledge = False
    response = client.post("/v1/events:batch", json={"events": [_purchase(), _purchase()]})
    assert response.status_code == 503
    assert "Retry-After" in response.headers
    assert [r["delivered"] for r in response.json["results"]] == [False, False]
