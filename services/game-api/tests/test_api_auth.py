"""Auth in-process (a fake producer): settings, the key directory, the dev login, the token CLI.
The doors themselves are tried against gunicorn and Kafka in test_api_auth_stack.py."""

import time

import jwt
import pytest
from api_fakes import FakeProducer

from questline_api import auth
from questline_api.app import create_app
from questline_api.settings import SettingsError, load

KAFKA = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}


@pytest.fixture
def keys(tmp_path):
    auth.new_key(tmp_path / "keys", "k1")
    return tmp_path / "keys"


def _client(keys, **env):
    settings = load({**KAFKA, "QUESTLINE_API_AUTH": "on", "QUESTLINE_API_AUTH_KEYS_DIR": str(keys), **env})
    producer = FakeProducer()
    return create_app(settings, producer=producer).test_client(), producer


def test_auth_on_without_a_key_directory_says_what_is_missing():
    with pytest.raises(SettingsError, match="QUESTLINE_API_AUTH_KEYS_DIR is not set"):
        load({**KAFKA, "QUESTLINE_API_AUTH": "on"})


def test_the_dev_login_needs_auth_on():
    with pytest.raises(SettingsError, match="QUESTLINE_API_AUTH_DEV_LOGIN=true needs QUESTLINE_API_AUTH=true"):
        load({**KAFKA, "QUESTLINE_API_AUTH_DEV_LOGIN": "on"})


def test_client_key_legacy_routes_need_the_key_file():
    with pytest.raises(SettingsError, match="QUESTLINE_API_LEGACY_CLIENT_KEY_FILE is not set"):
        load({**KAFKA, "QUESTLINE_API_LEGACY": "client-key"})


def test_a_short_key_and_an_unknown_signing_key_are_refused_at_start(tmp_path, keys):
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "k1").write_text("too short")
    with pytest.raises(SettingsError, match="key 'k1' has 9 bytes"):
        _client(tmp_path / "short")
    with pytest.raises(SettingsError, match="QUESTLINE_API_AUTH_SIGNING_KEY_ID='k2' is not one of the keys"):
        _client(keys, QUESTLINE_API_AUTH_SIGNING_KEY_ID="k2")


def test_kubernetes_secret_links_beside_the_key_files_are_ignored(keys):
    (keys / "..data").mkdir()
    assert auth.Keyring.from_dir(keys, None).key_ids == ("k1",)


def test_the_dev_login_is_absent_unless_turned_on(keys):
    client, _ = _client(keys)
    assert client.post("/v1/dev/login", json={"player_id": "alice"}).status_code == 404


def test_the_dev_login_signs_a_player_token_with_the_signing_key(keys):
    client, _ = _client(keys, QUESTLINE_API_AUTH_DEV_LOGIN="on", QUESTLINE_API_AUTH_TTL="120")
    answer = client.post("/v1/dev/login", json={"player_id": "alice"})
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 120)
    assert jwt.get_unverified_header(body["access_token"])["kid"] == "k1"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == ("alice", "player", 120)
    refused = client.post("/v1/dev/login", json={"player_id": "no spaces"})
    assert refused.status_code == 422 and refused.get_json()["errors"][0]["field"] == "player_id"


def test_the_openapi_document_stays_public_with_auth_on(keys):
    client, _ = _client(keys)
    assert client.get("/v1/openapi.json").status_code == 200


def test_the_token_cli_signs_a_service_token_the_api_accepts(keys, monkeypatch, capsys):
    monkeypatch.setenv("QUESTLINE_API_AUTH_KEYS_DIR", str(keys))
    assert auth.main(["token", "--service", "game-server-1", "--ttl", "60"]) == 0
    token = capsys.readouterr().out.strip()
    client, producer = _client(keys)
    batch = {"events": [{"event_type": "default", "player_id": p, "payload": {}} for p in ("alice", "bob")]}
    answer = client.post("/v1/events:batch", json=batch, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 202
    assert [e["player_id"] for e in producer.events] == ["alice", "bob"]


def test_a_players_declaration_without_a_player_is_refused(keys):
    client, producer = _client(keys)
    token = auth.Keyring.from_dir(keys, None).sign("alice", "player", 60)
    answer = client.post(
        "/v1/guilds/Camelot/wars", json={"target_guild": "Saxons"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert (answer.status_code, answer.get_json()["reason"]) == (403, "wrong-player")
    assert not producer.records


def test_a_remembered_token_is_still_refused_once_it_expires(keys):
    keyring = auth.Keyring.from_dir(keys, None)
    token = keyring.sign("alice", "player", 2)
    assert keyring.verify(token) == auth.Principal("alice", "player")
    assert keyring.verify(token) == auth.Principal("alice", "player")  # from the cache
    time.sleep(2.1)
    with pytest.raises(auth.Refusal) as refused:
        keyring.verify(token)
    assert refused.value.extra["reason"] == "expired"


def test_erasure_is_allowed_for_the_player_itself_and_a_service_not_for_another_player(keys):
    client, producer = _client(keys)
    keyring = auth.Keyring.from_dir(keys, None)
    bearer = {
        name: {"Authorization": f"Bearer {keyring.sign(name, role, 60)}"}
        for name, role in [("alice", "player"), ("bob", "player"), ("support", "service")]
    }
    assert client.delete("/v1/players/alice").status_code == 401
    assert client.delete("/v1/players/alice", headers=bearer["bob"]).status_code == 403
    assert client.delete("/v1/players/alice", headers=bearer["alice"]).status_code == 202
    assert client.delete("/v1/players/alice", headers=bearer["support"]).status_code == 202
    assert [e["payload"]["requested_by"] for e in producer.events] == ["player", "service:support"]
