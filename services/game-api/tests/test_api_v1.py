import pytest

from questline_events import derive_event_id, validate_event

JSON = {"Content-Type": "application/json"}


def test_purchase_answers_202_with_the_event_id_kafka_acknowledged(client, producer):
    response = client.post(
        "/v1/players/arthur/purchases", json={"item": "horse", "item_type": "destrier", "strength": 9, "price": 300}
    )
    assert response.status_code == 202
    [event] = producer.events
    validate_event(event)
    assert response.json == {"event_id": event["event_id"], "event_type": "purchase_horse"}
    assert event["source"] == "v1"
    assert event["player_id"] == "arthur"
    assert event["payload"] == {"item": "horse", "item_type": "destrier", "strength": 9, "price": 300}
    assert producer.records[0][0] == b"arthur"


def test_integral_float_is_put_on_kafka_as_an_integer(client, producer):
    # JSON Schema accepts 5.0 as an integer; Spark reads JSON types, so Kafka must get 5.
    body = {"item": "sword", "strength": 5.0, "price": 1e2}
    assert client.post("/v1/players/arthur/purchases", json=body).status_code == 202
    assert b'"strength":5,' in producer.records[0][1]
    assert b'"price":100}' in producer.records[0][1]


def test_join_and_leave_guild_produce_membership_events(client, producer):
    assert client.post("/v1/players/arthur/guild-memberships", json={"guild_name": "Round Table"}).status_code == 202
    assert client.delete("/v1/players/arthur/guild-memberships/Round Table").status_code == 202
    join, leave = producer.events
    assert (join["event_type"], join["payload"]) == ("join_guild", {"guild_name": "Round Table"})
    assert (leave["event_type"], leave["payload"]) == ("leave_guild", {"guild_name": "Round Table"})


@pytest.mark.parametrize(("resource", "event_type"), [("wars", "declare_war"), ("peace", "declare_peace")])
def test_guild_declarations_name_both_guilds(client, producer, resource, event_type):
    response = client.post(f"/v1/guilds/Camelot/{resource}", json={"target_guild": "Saxons", "player_id": "arthur"})
    assert response.status_code == 202
    [event] = producer.events
    assert event["event_type"] == event_type
    assert event["payload"] == {"guild_name": "Camelot", "target_guild": "Saxons"}
    assert event["player_id"] == "arthur"


def test_guild_name_with_a_slash_is_one_path_parameter(client, producer):
    assert client.post("/v1/guilds/Knights/Of/Ni/wars", json={"target_guild": "Arthur"}).status_code == 202
    assert producer.events[0]["payload"]["guild_name"] == "Knights/Of/Ni"


def test_idempotency_key_header_and_client_event_id_derive_the_same_event_id(client, producer):
    client.post("/v1/players/arthur/purchases", json={"item": "axe", "strength": 1}, headers={"Idempotency-Key": "k7"})
    client.post("/v1/players/arthur/purchases", json={"item": "axe", "strength": 1, "client_event_id": "k7"})
    first, second = producer.events
    assert first["event_id"] == second["event_id"] == derive_event_id("arthur", "k7")
    assert first["client_event_id"] == "k7"


def test_without_a_key_every_request_gets_a_new_event_id(client, producer):
    for _ in range(2):
        client.post("/v1/players/arthur/purchases", json={"item": "axe", "strength": 1})
    first, second = producer.events
    assert first["event_id"] != second["event_id"]
    assert "client_event_id" not in first


def test_conflicting_keys_are_refused(client, producer):
    response = client.post(
        "/v1/players/arthur/purchases",
        json={"item": "axe", "strength": 1, "client_event_id": "a"},
        headers={"Idempotency-Key": "b"},
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "client_event_id"
    assert producer.records == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"item": "sword"}, "body"),
        ({"item": "dragon", "strength": 1}, "item"),
        ({"item": "sword", "strength": 1001}, "strength"),
        ({"item": "sword", "strength": "5"}, "strength"),
        ({"item": "sword", "strength": 5, "strenght": 5}, "body"),
        ({"item": "sword", "strength": 5, "item_type": ""}, "item_type"),
        ([1, 2], "body"),
    ],
)
def test_invalid_purchase_is_422_naming_the_field_and_nothing_is_produced(client, producer, body, field):
    response = client.post("/v1/players/arthur/purchases", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422
    assert problem["type"].endswith("/validation-failed")
    assert problem["errors"][0]["field"] == field
    assert problem["errors"][0]["reason"]
    assert producer.records == []


def test_invalid_player_id_in_the_path_is_named(client, producer):
    response = client.post("/v1/players/sir arthur/purchases", json={"item": "axe", "strength": 1})
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "player_id"
    assert producer.records == []


def test_malformed_json_is_400_and_nothing_is_produced(client, producer):
    response = client.post("/v1/players/arthur/purchases", data=b'{"item": "axe",', headers=JSON)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert producer.records == []


def test_body_that_is_not_json_is_415(client, producer):
    response = client.post("/v1/players/arthur/purchases", data="item=axe", content_type="text/plain")
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert producer.records == []


def test_body_above_the_size_limit_is_413(client, producer, settings):
    big = b'{"item": "axe", "strength": 1, "description": "' + b"x" * settings.max_body_bytes + b'"}'
    response = client.post("/v1/players/arthur/purchases", data=big, headers=JSON)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    assert producer.records == []


def test_invalid_idempotency_key_is_400(client, producer):
    response = client.post(
        "/v1/players/arthur/purchases", json={"item": "axe", "strength": 1}, headers={"Idempotency-Key": "x" * 101}
    )
    assert response.status_code == 400
    assert response.json["errors"][0]["field"] == "Idempotency-Key"
    assert producer.records == []


def test_wrong_method_on_a_v1_resource_is_405_problem(client):
    response = client.get("/v1/players/arthur/purchases")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "POST" in response.headers["Allow"]


def test_kafka_not_acknowledging_is_503_with_retry_after(client, producer):
    producer.acknowledge = False
    response = client.post("/v1/players/arthur/purchases", json={"item": "axe", "strength": 1})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["type"].endswith("/kafka-unavailable")


def test_erasure_request_is_an_erase_player_event_on_kafka_and_the_answer_says_how_to_follow_it(client, producer):
    response = client.delete("/v1/players/arthur", headers={"Idempotency-Key": "forget-me"})
    assert response.status_code == 202
    [event] = producer.events
    validate_event(event)
    assert (event["event_type"], event["player_id"], event["payload"]) == (
        "erase_player",
        "arthur",
        {"requested_by": "anonymous"},
    )
    assert event["event_id"] == derive_event_id("arthur", "forget-me")  # a retried DELETE is one request
    body = response.json
    assert (body["erasure_id"], body["status"], body["requested_at"]) == (
        event["event_id"],
        "accepted",
        event["timestamp"],
    )
    assert f"erasure_audit WHERE erasure_id = '{event['event_id']}'" in body["follow"]
    assert producer.records[0][0] == b"arthur"


def test_an_invalid_player_id_is_refused_and_a_batch_cannot_carry_an_erasure(client, producer):
    assert client.delete("/v1/players/not%20valid").status_code == 422
    batch = {"events": [{"event_type": "erase_player", "player_id": "arthur", "payload": {"requested_by": "player"}}]}
    response = client.post("/v1/events:batch", json=batch)
    assert response.status_code == 422
    assert "DELETE /v1/players/{player_id}" in response.get_data(as_text=True)
    assert producer.events == []
