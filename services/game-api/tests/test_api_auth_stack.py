"""Every door of the API with auth on, under gunicorn against the real Kafka of the local stack.

Each refusal must carry the right status, a problem document that says why, and leave the
topic exactly as it was (its end offsets do not move).
"""

import os
import time

import httpx
import jwt
import pytest
from api_stack import Gunicorn

from questline_api.auth import CLIENT_KEY_HEADER, Keyring, new_key

pytestmark = [pytest.mark.stack, pytest.mark.timeout(600)]

# QUESTLINE_API_TEST_PORT: the first of two ports these servers bind (0: any free ones).
AUTH_PORT = int(os.environ.get("QUESTLINE_API_TEST_PORT", "0")) or None
PURCHASE = {"item": "sword", "strength": 3}


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """Two key directories: the API's (k1, k2) and a stranger's (k1 too, another secret)."""
    root = tmp_path_factory.mktemp("auth")
    for kid in ("k1", "k2"):
        new_key(root / "api", kid)
    new_key(root / "stranger", "k1")
    (root / "client-key").write_text("legacy-client-key-0123456789\n")
    return root


def _server(kafka_bootstrap, api_kafka_env, keys, log, signing, port, **env):
    return Gunicorn(
        kafka_bootstrap,
        log,
        workers=2,
        **api_kafka_env,
        port=port,
        QUESTLINE_API_AUTH="true",
        QUESTLINE_API_AUTH_KEYS_DIR=str(keys / "api"),
        QUESTLINE_API_AUTH_SIGNING_KEY_ID=signing,
        QUESTLINE_API_AUTH_DEV_LOGIN="true",
        **env,
    ).start()


@pytest.fixture(scope="module")
def api(kafka_bootstrap, api_kafka_env, keys, scratch_topic, tmp_path_factory):
    """Signs with k1, verifies k1 and k2; legacy routes need the client key."""
    log = tmp_path_factory.mktemp("gunicorn") / "auth.log"
    server = _server(
        kafka_bootstrap, api_kafka_env, keys, log, "k1", AUTH_PORT, QUESTLINE_EVENTS_TOPIC=scratch_topic,
        QUESTLINE_API_LEGACY="client-key", QUESTLINE_API_LEGACY_CLIENT_KEY_FILE=str(keys / "client-key"),
    )  # fmt: skip
    yield server.url
    server.stop()


def _keyring(keys, directory="api", signing="k1"):
    return Keyring.from_dir(keys / directory, signing)


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def _login(api, player):
    response = httpx.post(f"{api}/v1/dev/login", json={"player_id": player}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def _refused(response, status, reason):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["reason"]) == (status, reason)
    assert body["detail"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    return body


def test_every_bad_credential_is_refused_and_nothing_reaches_kafka(api, keys, topic, run_id):
    alice, bob = f"{run_id}-alice", f"{run_id}-bob"
    path = f"{api}/v1/players/{alice}/purchases"
    mine = _keyring(keys)
    alices = mine.sign(alice, "player", 60)
    head, payload, _signature = alices.split(".")
    stranger = _keyring(keys, "stranger")
    mixed = {"events": [
        {"event_type": "default", "player_id": alice, "payload": {}},
        {"event_type": "default", "player_id": bob, "payload": {}},
    ]}  # fmt: skip
    mark = topic.mark()
    cases = [
        (httpx.post(path, json=PURCHASE), 401, "missing"),
        (httpx.post(path, json=PURCHASE, headers={"Authorization": "Basic YWxpY2U6eA=="}), 401, "malformed"),
        (httpx.post(path, json=PURCHASE, headers=_bearer("not-a-jwt")), 401, "malformed"),
        (httpx.post(path, json=PURCHASE, headers=_bearer(f"{head}.{payload}.AAAA")), 401, "bad-signature"),
        (httpx.post(path, json=PURCHASE, headers=_bearer(stranger.sign(alice, "player", 60))), 401, "bad-signature"),
        (
            httpx.post(path, json=PURCHASE, headers=_bearer(mine.sign(alice, "player", 60, now=time.time() - 3600))),
            401,
            "expired",
        ),
        (
            httpx.post(path, json=PURCHASE, headers=_bearer(_with_kid(stranger, "k9", alice))),
            401,
            "unknown-key",
        ),
        (
            httpx.post(path, json=PURCHASE, headers=_bearer(_unsigned(alice))),
            401,
            "unknown-key",
        ),
        (httpx.post(path, json=PURCHASE, headers=_bearer(mine.sign(alice, "admin", 60))), 401, "bad-claims"),
        (httpx.post(f"{api}/v1/players/{bob}/purchases", json=PURCHASE, headers=_bearer(alices)), 403, "wrong-player"),
        (httpx.post(f"{api}/v1/events:batch", json=mixed, headers=_bearer(alices)), 403, "wrong-player"),
        (
            httpx.post(
                f"{api}/v1/guilds/Camelot/wars",
                json={"target_guild": "Saxons", "player_id": bob},
                headers=_bearer(alices),
            ),
            403,
            "wrong-player",
        ),
        (httpx.get(f"{api}/purchase_a_sword?player_id={alice}"), 401, "missing-client-key"),
        (httpx.get(f"{api}/purchase_a_sword", headers={CLIENT_KEY_HEADER: "guess"}), 401, "bad-client-key"),
    ]  # fmt: skip
    bodies = [_refused(response, status, reason) for response, status, reason in cases]
    assert "events[1]" in bodies[10]["detail"] and bob in bodies[10]["detail"]
    assert topic.mark() == mark  # not one record appended, on any partition
    metrics = httpx.get(f"{api}/metrics").text
    for reason in ("missing", "bad-signature", "expired", "unknown-key", "wrong-player", "bad-client-key"):
        assert f'questline_api_auth_refusals_total{{reason="{reason}"}}' in metrics


def _with_kid(keyring, kid, player):
    token = keyring.sign(player, "player", 60)
    return jwt.encode(jwt.decode(token, options={"verify_signature": False}), "x" * 32, headers={"kid": kid})


def _unsigned(player):
    return jwt.encode(
        {"sub": player, "role": "player", "iat": int(time.time()), "exp": int(time.time()) + 60}, None, "none"
    )


def test_a_players_token_and_a_service_credential_are_accepted(api, keys, topic, run_id):
    alice, bob = f"{run_id}-alice", f"{run_id}-bob"
    mark = topic.mark()
    token = _login(api, alice)
    own = httpx.post(f"{api}/v1/players/{alice}/purchases", json=PURCHASE, headers=_bearer(token))
    assert own.status_code == 202, own.text
    service = _bearer(_keyring(keys).sign("game-server-1", "service", 60))
    batch = {"events": [{"event_type": "default", "player_id": p, "payload": {}} for p in (alice, bob)]}
    served = httpx.post(f"{api}/v1/events:batch", json=batch, headers=service)
    assert served.status_code == 202, served.text
    legacy = httpx.get(
        f"{api}/purchase_a_sword?player_id={bob}", headers={CLIENT_KEY_HEADER: "legacy-client-key-0123456789"}
    )
    assert legacy.status_code == 200
    ids = {event["event_id"] for _key, event in topic.records_since(mark) if event["player_id"].startswith(run_id)}
    assert len(ids) == 4 and own.json()["event_id"] in ids
    assert {r["event_id"] for r in served.json()["results"]} <= ids


def test_the_old_key_still_verifies_while_the_new_one_signs(
    kafka_bootstrap, api_kafka_env, keys, scratch_topic, topic, run_id, tmp_path
):
    """Rotation step 2 (k2 signs; k1 kept until its tokens expire): both kinds of token pass."""
    server = _server(
        kafka_bootstrap, api_kafka_env, keys, tmp_path / "rotated.log", "k2", AUTH_PORT and AUTH_PORT + 1,
        QUESTLINE_API_LEGACY="off", QUESTLINE_EVENTS_TOPIC=scratch_topic,
    )  # fmt: skip
    try:
        player = f"{run_id}-rotating"
        new_token = _login(server.url, player)
        assert jwt.get_unverified_header(new_token)["kid"] == "k2"
        old_token = _keyring(keys, signing="k1").sign(player, "player", 60)
        mark = topic.mark()
        for token in (old_token, new_token):
            response = httpx.post(f"{server.url}/v1/players/{player}/purchases", json=PURCHASE, headers=_bearer(token))
            assert response.status_code == 202, response.text
        assert len([e for _k, e in topic.records_since(mark) if e["player_id"] == player]) == 2
        _refused(httpx.get(f"{server.url}/purchase_a_sword"), 404, "legacy-off")
    finally:
        server.stop()
