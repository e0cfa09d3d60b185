"""One way to reach Trino from a URL: scheme (TLS), host, port, user and password all come from it."""

import pytest
import trino

from questline_settings import SettingsError
from questline_settings.trino import TrinoLogin, connect, trino_login, trino_url


def test_a_plain_url_connects_over_http_as_the_callers_user():
    conn = connect("http://trino.example:8080", user="questline-report", catalog="hive", schema="questline")
    assert (conn.host, conn.port, conn.http_scheme) == ("trino.example", 8080, "http")
    assert (conn.user, conn.catalog, conn.schema, conn.auth) == ("questline-report", "hive", "questline", None)


def test_a_url_without_a_port_uses_the_schemes_port():
    assert connect("http://trino.example", user="u").port == 80
    assert connect("https://trino.example", user="u").port == 443


def test_an_https_url_with_a_password_authenticates_as_its_user():
    conn = connect("https://analyst:s%40cret@trino.example:8443", user="questline-report", request_timeout=5)
    assert (conn.http_scheme, conn.user) == ("https", "analyst")
    assert isinstance(conn.auth, trino.auth.BasicAuthentication)
    assert (conn.auth._username, conn.auth._password) == ("analyst", "s@cret")
    assert conn.request_timeout == 5


def test_a_user_in_the_url_replaces_the_callers():
    assert connect("http://someone@trino.example:8080", user="questline-report").user == "someone"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "trino:8080",
            "QUESTLINE_TRINO_URL='trino:8080' is not an http(s) URL "
            "(expected http://host:port or https://user:password@host:port)",
        ),
        (
            "http://analyst:s3cret@trino:8080",
            "QUESTLINE_TRINO_URL='http://analyst:***@trino:8080' has a password but is not https "
            "(Trino accepts basic authentication only over TLS)",
        ),
        (
            "http://trino:8080/ui",
            "QUESTLINE_TRINO_URL='http://trino:8080/ui' has a path "
            "(expected http://host:port or https://user:password@host:port)",
        ),
    ],
)
def test_a_bad_trino_url_is_named_without_showing_its_password(value, message):
    with pytest.raises(SettingsError) as error:
        trino_url(env={"QUESTLINE_TRINO_URL": value})
    assert str(error.value) == message


def test_an_unset_trino_url_is_none_unless_required():
    assert trino_url(env={}) is None
    assert trino_url(env={}, default="http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert trino_url(env={"QUESTLINE_TRINO_URL": "http://trino:8080/"}) == "http://trino:8080"
    with pytest.raises(SettingsError, match=r"^QUESTLINE_TRINO_URL is not set \(expected http://host:port"):
        trino_url(env={}, required=True)


def test_a_login_reads_its_user_password_file_and_ca_from_the_environment(tmp_path):
    (tmp_path / "password").write_text("s3cret\n")
    (tmp_path / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n")
    env = {
        "QUESTLINE_TRINO_USER": "report",
        "QUESTLINE_TRINO_PASSWORD_FILE": str(tmp_path / "password"),
        "QUESTLINE_TRINO_CA_FILE": str(tmp_path / "ca.crt"),
    }
    login = trino_login("dashboard", url="https://trino:8443", env=env)
    assert (login.user, login.password, login.ca_file) == ("report", "s3cret", tmp_path / "ca.crt")
    assert "s3cret" not in repr(login)
    conn = login.connect("https://trino:8443", catalog="hive")
    assert isinstance(conn.auth, trino.auth.BasicAuthentication)
    assert (conn.auth._username, conn.auth._password) == ("report", "s3cret")
    assert conn._http_session.verify == str(tmp_path / "ca.crt")


def test_without_variables_a_login_is_the_default_user_without_password():
    assert trino_login("pipeline", url="http://trino:8080", env={}) == TrinoLogin("pipeline")


def test_the_ca_file_wins_over_requests_ca_bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    conn = connect("https://trino:8443", user="u", ca_file=tmp_path / "ca.crt")
    settings = conn._http_session.merge_environment_settings("https://trino:8443", {}, None, None, None)
    assert settings["verify"] == str(tmp_path / "ca.crt")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"QUESTLINE_TRINO_PASSWORD_FILE": "/x"},
            "QUESTLINE_TRINO_PASSWORD_FILE is set but QUESTLINE_TRINO_URL='http://trino:8080' is not https "
            "(Trino accepts passwords only over TLS)",
        ),
    ],
)
def test_a_password_over_http_is_refused_before_anything_is_sent(env, message):
    with pytest.raises(SettingsError) as error:
        trino_login("report", url="http://trino:8080", env=env)
    assert str(error.value) == message


def test_a_missing_or_empty_password_file_is_named(tmp_path):
    with pytest.raises(SettingsError, match=r"^QUESTLINE_TRINO_PASSWORD_FILE='/nowhere' cannot be read: No such file"):
        trino_login("report", url="https://trino:8443", env={"QUESTLINE_TRINO_PASSWORD_FILE": "/nowhere"})
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(SettingsError, match="is empty"):
        trino_login("report", url="https://t:8443", env={"QUESTLINE_TRINO_PASSWORD_FILE": str(tmp_path / "empty")})
