"""Connecting to Trino from a URL: the one way every questline component does it.

The URL is what a setting holds (QUESTLINE_TRINO_URL; `questline-stack env` prints the local stack's):
`http://` or `https://` (TLS, verified against the system's CAs unless `verify` says otherwise), the
host, the port (default 80 or 443) and optionally `user[:password]@`. A user in the URL replaces the
caller's own; a password means HTTP basic authentication, which Trino accepts only over https.

This module needs the `trino` client only when connect() is called; every package that calls it
depends on `trino` itself.
"""

from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from questline_settings.env import SettingsError, http_url, without_password

VARIABLE = "QUESTLINE_TRINO_URL"
EXAMPLE = "http://host:port or https://user:password@host:port"


def trino_url(
    name: str = VARIABLE,
    default: str | None = None,
    *,
    required: bool = False,
    env: Mapping[str, str] | None = None,
) -> str | None:
    """The Trino URL a variable holds, checked the way connect() will use it; None when unset,
    unless there is a default or it is required."""
    url = http_url(name, default, example=EXAMPLE, env=env)
    if url is None and required:
        raise SettingsError(f"{name} is not set (expected {EXAMPLE})")
    if url is not None:
        parts = urlsplit(url)
        if parts.password is not None and parts.scheme != "https":
            raise SettingsError(
                f"{name}={without_password(url)!r} has a password but is not https "
                "(Trino accepts basic authentication only over TLS)"
            )
        if parts.path.strip("/"):
            raise SettingsError(f"{name}={without_password(url)!r} has a path (expected {EXAMPLE})")
    return url


def connect(url: str, *, user: str, catalog: str | None = None, schema: str | None = None, **options):
    """A trino.dbapi.Connection to the Trino at `url` as `user`, with default catalog and schema.
    `options` go to trino.dbapi.connect (request_timeout, max_attempts, timezone, verify...)."""
    import trino

    parts = urlsplit(url)
    if parts.username:
        user = unquote(parts.username)
    if parts.password is not None:
        options.setdefault("auth", trino.auth.BasicAuthentication(user, unquote(parts.password)))
    return trino.dbapi.connect(
        host=parts.hostname,
        port=parts.port or (443 if parts.scheme == "https" else 80),
        http_scheme=parts.scheme,
        user=user,
        catalog=catalog,
        schema=schema,
        **options,
    )
