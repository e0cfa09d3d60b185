import statistics

import pytest

from questline_api.legacy import LEGACY_ACTIONS
from questline_events import validate_event

# The original game, route by route: event_type, description, answer (issue 21's table).
ORIGINAL_ANSWERS = {
    "/": ("default", None, "This is the default response!\n"),
    "/purchase_a_sword": ("purchase_sword", "large sword", "Sword Purchased!\n"),
    "/purchase_an_axe": ("purchase_axe", "large axe", "Axe Purchased!\n"),
    "/purchase_a_shield": ("purchase_shield", "heavy shield", "Axe Purchased!\n"),
    "/join_a_guild": ("join_guild", "cool guild", "Guild Joined!\n"),
    "/declare_peace": ("declare_peace", "lastful peace", "Peace declared!\n"),
    "/declare_a_war": ("declare_war", "destructive war", "War declared!\n"),
}


def test_every_original_route_is_served():
    assert {a.path for a in LEGACY_ACTIONS} == set(ORIGINAL_ANSWERS)


@pytest.mark.parametrize("path", sorted(ORIGINAL_ANSWERS))
def test_original_route_answers_plain_text_and_produces_one_legacy_event(client, producer, path):
    event_type, description, answer = ORIGINAL_ANSWERS[path]
    response = client.get(path, headers={"User-Agent": "ApacheBench/2.3", "Accept": "*/*"})
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.get_data(as_text=True) == answer
    [event] = producer.events
    validate_event(event)
    assert event["event_type"] == event_type
    assert event["source"] == "legacy"
    assert event["player_id"] is None
    assert event["description"] == description
    assert event["request"] == {"host": "localhost", "user_agent": "ApacheBench/2.3", "accept": "*/*"}
    assert producer.records[0][0] is None  # no player: no Kafka key


def test_sword_purchase_records_sword_type_and_player(client, producer):
    client.get("/purchase_a_sword?sword_type=katana&player_id=arthur")
    client.get("/purchase_a_sword")
    first, second = producer.events
    assert {k: v for k, v in first["payload"].items() if k != "strength"} == {"item": "sword", "item_type": "katana"}
    assert first["player_id"] == "arthur"
    assert producer.records[0][0] == b"arthur"
    assert second["payload"]["item_type"] is None


def test_purchase_strength_follows_the_original_clipped_normal_distribution(client, producer):
    # The original: int(random.normalvariate(5, 4)) clipped to 0..10, so ~16 % zeros, ~10 % tens, mean ~4.6.
    for _ in range(400):
        for path in ("/purchase_a_sword", "/purchase_an_axe", "/purchase_a_shield"):
            assert client.get(path).status_code == 200
    strengths = [event["payload"]["strength"] for event in producer.events]
    assert len(strengths) == 1200
    assert all(isinstance(s, int) for s in strengths)
    assert (min(strengths), max(strengths)) == (0, 10)
    assert 4.3 <= statistics.fmean(strengths) <= 4.9
    assert 0.11 <= strengths.count(0) / len(strengths) <= 0.21
    assert 0.06 <= strengths.count(10) / len(strengths) <= 0.14


def test_guild_routes_record_the_optional_guild_names(client, producer):
    client.get("/join_a_guild?guild_name=Camelot")
    client.get("/join_a_guild")
    client.get("/declare_a_war?guild_name=Camelot&target_guild=Mordred")
    client.get("/declare_peace?target_guild=Mordred")
    assert [e["payload"] for e in producer.events] == [
        {"guild_name": "Camelot"},
        {"guild_name": None},
        {"guild_name": "Camelot", "target_guild": "Mordred"},
        {"guild_name": None, "target_guild": "Mordred"},
    ]


def test_invalid_query_parameter_is_named_and_nothing_is_produced(client, producer):
    response = client.get("/purchase_a_sword?sword_type=" + "x" * 65)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "sword_type"
    response = client.get("/join_a_guild?player_id=not%20valid")
    assert response.json["errors"][0]["field"] == "player_id"
    assert producer.records == []


def test_unknown_path_is_404_problem_and_produces_nothing(client, producer):
    response = client.get("/purchase_a_dragon")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert producer.records == []


def test_post_to_a_legacy_route_is_405_with_allow_header(client, producer):
    response = client.post("/purchase_a_sword")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.json["status"] == 405
    assert producer.records == []


def test_head_on_a_legacy_route_records_nothing(client, producer):
    assert client.head("/purchase_a_sword").status_code == 200
    assert producer.records == []


def test_same_idempotency_key_from_same_player_yields_same_event_id(client, producer):
    for _ in range(2):
        client.get("/purchase_an_axe?player_id=gawain", headers={"Idempotency-Key": "k-1"})
    client.get("/purchase_an_axe?player_id=percival", headers={"Idempotency-Key": "k-1"})
    client.get("/purchase_an_axe?player_id=gawain")
    ids = [e["event_id"] for e in producer.events]
    assert ids[0] == ids[1]
    assert len(set(ids)) == 3


def test_kafka_not_acknowledging_answers_503_with_retry_after(client, producer):
    producer.acknowledge = False
    response = client.get("/purchase_a_shield")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.mimetype == "application/problem+json"
