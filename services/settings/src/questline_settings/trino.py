"""Connecting to Trino from a URL: the one way every questline component does it.

The URL is what a setting holds (QUESTLINE_TRINO_URL; `questline-stack env` prints the local stack's):
`http://` or `https://` (TLS, verified against the system's CAs unless `verify` says otherwise), the
host, the port (default 80 or 443) and optionally `user[:password]@`. A user in the URL replaces the
caller's own; a password means HTTP basic authentication, which Trino accepts only over https.

Who a component is to Trino (docs/security.md, "Trino") is three more variables, read by
trino_login() in each component's settings module: QUESTLINE_TRINO_USER, QUESTLINE_TRINO_PASSWORD_FILE
(the file holding that user's password, mounted from a Secret; never the password itself, so it
shows in no environment listing) and QUESTLINE_TRINO_CA_FILE (the CA that signed Trino's certificate).

This module needs the `trino` client only when connect() is called; every package that calls it
depends on `trino` itself.
"""

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from questline_settings.env import SettingsError, http_url, raw, text, without_password

VARIABLE = "QUESTLINE_TRINO_URL"
EXAMPLE = "http://host:port or https://user:password@host:port"
USER_VARIABLE = "QUESTLINE_TRINO_USER"
PASSWORD_FILE_VARIABLE = "QUESTLINE_TRINO_PASSWORD_FILE"
CA_FILE_VARIABLE = "QUESTLINE_TRINO_CA_FILE"


@dataclasses.dataclass(frozen=True)
class TrinoLogin:
    """A user, its password (None: no password, as on a Trino without authentication) and the CA
    file that verifies Trino's certificate (None: the system's CAs)."""

    user: str
    password: str | None = dataclasses.field(default=None, repr=False)
    ca_file: Path | None = None

    def connect(self, url: str, **options):
        return connect(url, user=self.user, password=self.password, ca_file=self.ca_file, **options)


def trino_login(default_user: str, *, url: str | None, env: Mapping[str, str] | None = None) -> TrinoLogin:
    """QUESTLINE_TRINO_USER (default `default_user`), the password read from
    QUESTLINE_TRINO_PASSWORD_FILE and QUESTLINE_TRINO_CA_FILE, checked against the URL they go to."""
    user = text(USER_VARIABLE, default_user, env=env)
    password_file = raw(PASSWORD_FILE_VARIABLE, env)
    password = None
    if password_file:
        if url is not None and urlsplit(url).scheme != "https":
            raise SettingsError(
                f"{PASSWORD_FILE_VARIABLE} is set but {VARIABLE}={without_password(url)!r} is not https "
                "(Trino accepts passwords only over TLS)"
            )
        password = _read(PASSWORD_FILE_VARIABLE, password_file, "the file of the user's password")
        if not password:
            raise SettingsError(f"{PASSWORD_FILE_VARIABLE}={password_file!r} is empty (expected the user's password)")
    ca_file = raw(CA_FILE_VARIABLE, env)
    if ca_file:
        _read(CA_FILE_VARIABLE, ca_file, "the PEM file of the CA that signed Trino's certificate")
    return TrinoLogin(user, password, Path(ca_file) if ca_file else None)


def _read(name: str, value: str, what: str) -> str:
    try:
        return Path(value).read_text().strip()
    except OSError as exc:
        raise SettingsError(f"{name}={value!r} cannot be read: {exc.strerror} (expected {what})") from None


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


def connect(
    url: str,
    *,
    user: str,
    password: str | None = None,
    ca_file: Path | None = None,
    catalog: str | None = None,
    schema: str | None = None,
    **options,
):
    """A trino.dbapi.Connection to the Trino at `url` as `user` (with HTTP basic authentication
    when there is a password; the certificate verified against `ca_file` when given), with default
    catalog and schema. `options` go to trino.dbapi.connect (request_timeout, max_attempts, timezone...)."""
    import trino

    parts = urlsplit(url)
    if parts.username:
        user = unquote(parts.username)
    if parts.password is not None:
        password = unquote(parts.password)
    if password is not None:
        options.setdefault("auth", trino.auth.BasicAuthentication(user, password))
    if ca_file is not None:
        options.setdefault("http_session", _session_verifying_with(ca_file))
    return trino.dbapi.connect(
        host=parts.hostname,
        port=parts.port or (443 if parts.scheme == "https" else 80),
        http_scheme=parts.scheme,
        user=user,
        catalog=catalog,
        schema=schema,
        **options,
    )


def _session_verifying_with(ca_file: Path):
    """A requests session that verifies against `ca_file` even where REQUESTS_CA_BUNDLE or
    CURL_CA_BUNDLE is set: requests lets those replace a session's own `verify` (psf/requests#3829),
    which is what trino.dbapi's `verify=` sets."""
    import requests

    class Session(requests.Session):
        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if verify is None:
                settings["verify"] = self.verify
            return settings

    session = Session()
    session.verify = str(ca_file)
    return session
