"""The API under gunicorn (several workers) against the real Kafka of the local stack."""

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_stack import Gunicorn

from questline_devkit.process import free_port
from questline_events import validate_event

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]


def _ours(records, run_id):
    return [(key, event) for key, event in records if (event.get("player_id") or "").startswith(run_id)]


def test_what_clients_post_is_what_a_consumer_reads_exactly_once(api_url, topic, run_id):
    mark = topic.mark()
    players = [f"{run_id}-p{i}" for i in range(40)]

    def purchase(i_player):
        i, player = i_player
        body = {"item": "sword", "item_type": f"blade-{i}", "strength": i % 1000}
        response = httpx.post(f"{api_url}/v1/players/{player}/purchases", json=body, timeout=30)
        assert response.status_code == 202, response.text
        return response.json()["event_id"], (player, body)

    # Concurrent clients: gunicorn spreads them over its workers, each with its own producer.
    with ThreadPoolExecutor(8) as pool:
        posted = dict(pool.map(purchase, enumerate(players)))
    batch = [
        {"event_type": "join_guild", "player_id": f"{run_id}-b{i}", "payload": {"guild_name": f"guild {i}"}}
        for i in range(25)
    ]
    response = httpx.post(f"{api_url}/v1/events:batch", json={"events": batch}, timeout=30)
    assert response.status_code == 202, response.text
    batch_ids = [r["event_id"] for r in response.json()["results"]]

    records = _ours(topic.records_since(mark), run_id)
    read_ids = Counter(event["event_id"] for _key, event in records)
    assert read_ids == Counter([*posted, *batch_ids])  # every event once, nothing else
    for key, event in records:
        validate_event(event)
        assert key == event["player_id"].encode()
        if event["event_id"] in posted:
            player, body = posted[event["event_id"]]
            assert event["player_id"] == player
            assert event["payload"] == {"item": "sword", "item_type": body["item_type"], "strength": body["strength"]}
        else:
            item = batch[batch_ids.index(event["event_id"])]
            assert (event["player_id"], event["payload"]) == (item["player_id"], item["payload"])


def test_legacy_routes_produce_legacy_shaped_events(api_url, topic, run_id):
    mark = topic.mark()
    player = f"{run_id}-legacy"
    headers = {"User-Agent": "ApacheBench/2.3", "Accept": "*/*"}
    answers = {
        f"/?player_id={player}": "This is the default response!\n",
        f"/purchase_a_sword?player_id={player}&sword_type=katana": "Sword Purchased!\n",
        f"/join_a_guild?player_id={player}&guild_name=Camelot": "Guild Joined!\n",
        f"/declare_a_war?player_id={player}&target_guild=Saxons": "War declared!\n",
    }
    for path, answer in answers.items():
        response = httpx.get(api_url + path, headers=headers, timeout=30)
        assert (response.status_code, response.text) == (200, answer)

    events = [event for _key, event in _ours(topic.records_since(mark), run_id)]
    assert [e["event_type"] for e in events] == ["default", "purchase_sword", "join_guild", "declare_war"]
    for event in events:
        assert event["source"] == "legacy"
        assert event["request"] == {
            "host": api_url.removeprefix("http://"),
            "user_agent": "ApacheBench/2.3",
            "accept": "*/*",
        }
    assert events[1]["payload"]["item_type"] == "katana"
    assert 0 <= events[1]["payload"]["strength"] <= 10
    assert events[3]["payload"] == {"guild_name": None, "target_guild": "Saxons"}


def test_invalid_requests_produce_nothing(api_url, topic, run_id):
    mark = topic.mark()
    player = f"{run_id}-invalid"
    purchases = f"{api_url}/v1/players/{player}/purchases"
    refused = [
        httpx.post(purchases, json={"item": "dragon", "strength": 1}),
        httpx.post(purchases, content=b"{not json", headers={"Content-Type": "application/json"}),
        httpx.post(purchases, content=b"item=axe", headers={"Content-Type": "text/plain"}),
        httpx.post(
            f"{api_url}/v1/events:batch",
            json={"events": [
                {"event_type": "default", "player_id": player, "payload": {}},
                {"event_type": "default", "player_id": player, "payload": {"surprise": 1}},
            ]},
        ),
        httpx.get(f"{api_url}/purchase_a_sword?player_id={player}&sword_type=" + "x" * 100),
        httpx.get(f"{api_url}/purchase_a_dragon?player_id={player}"),
        httpx.post(f"{api_url}/join_a_guild?player_id={player}"),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [422, 400, 415, 422, 422, 404, 405]
    assert all(r.headers["Content-Type"] == "application/problem+json" for r in refused)
    # A valid request after them: its event must be the only one of this player.
    accepted = httpx.post(f"{api_url}/v1/players/{player}/purchases", json={"item": "axe", "strength": 2})
    assert accepted.status_code == 202
    events = [event for _key, event in _ours(topic.records_since(mark), run_id) if event["player_id"] == player]
    assert [e["event_id"] for e in events] == [accepted.json()["event_id"]]


def test_a_retry_with_the_same_idempotency_key_carries_the_same_event_id(api_url, topic, run_id):
    mark = topic.mark()
    url = f"{api_url}/v1/players/{run_id}-retry/guild-memberships"
    answers = [httpx.post(url, json={"guild_name": "Camelot"}, headers={"Idempotency-Key": "join-1"}) for _ in range(2)]
    assert answers[0].json()["event_id"] == answers[1].json()["event_id"]
    ids = {event["event_id"] for _key, event in _ours(topic.records_since(mark), run_id)}
    assert ids == {answers[0].json()["event_id"]}  # Spark keeps one of the two records


def test_metrics_add_up_the_requests_of_all_workers(api_url):
    url = f"{api_url}/healthz"
    with ThreadPoolExecutor(6) as pool:
        assert set(pool.map(lambda _: httpx.get(url).status_code, range(60))) == {200}
    text = httpx.get(f"{api_url}/metrics").text
    line = next(
        x for x in text.splitlines() if x.startswith('questline_api_requests_total{method="GET",route="/healthz"')
    )
    assert float(line.rsplit(" ", 1)[1]) >= 60
    assert "questline_api_producer_queue_length" in text


def test_kafka_that_does_not_answer_gives_503_with_retry_after_and_not_ready(tmp_path):
    nobody = f"127.0.0.1:{free_port()}"  # a port no Kafka listens on: the real producer, timing out
    server = Gunicorn(nobody, tmp_path / "gunicorn.log", workers=1, QUESTLINE_API_PRODUCE_TIMEOUT="1")
    server.start(ready_path="/healthz")
    try:
        response = httpx.post(
            f"{server.url}/v1/players/nobody/purchases", json={"item": "axe", "strength": 1}, timeout=30
        )
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        assert response.headers["Content-Type"] == "application/problem+json"
        assert httpx.get(f"{server.url}/purchase_a_sword", timeout=30).status_code == 503
        assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 503
        text = httpx.get(f"{server.url}/metrics", timeout=30).text
        assert "questline_api_produce_errors_total 2.0" in text
    finally:
        server.stop()
