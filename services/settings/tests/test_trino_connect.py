"""One way to reach Trino from a URL: scheme (TLS), host, port, user and password all come from it."""

import pytest
import trino

from questline_settings import SettingsError
from questline_settings.trino import connect, trino_url


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
