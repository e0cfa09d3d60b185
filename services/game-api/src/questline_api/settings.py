"""Every setting of the game API, read from environment variables in one place.

KAFKA_BOOTSTRAP_SERVERS is the standard name and is required; everything else
starts with QUESTLINE_API_ and has a default that suits the local stack. A bad
value stops the process with a message naming the variable and what it expects.
"""

import dataclasses
import os
from pathlib import Path

from questline_events import DATABASE, TOPIC_EVENTS, TRINO_CATALOG
from questline_settings import (
    SettingsError,
    choice,
    flag,
    kafka_bootstrap_servers,
    kafka_topic,
    matching,
    number,
    raw,
    sql_name,
    text,
)
from questline_settings.kafka import KafkaCredentials, kafka_credentials
from questline_settings.trino import TrinoLogin, trino_login, trino_url

__all__ = ["AuthSettings", "Settings", "SettingsError", "load", "load_auth"]

_LEGACY_ACCESS = ("off", "open", "client-key")
_COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclasses.dataclass(frozen=True)
class AuthSettings:
    """Who may call the API (questline_api.auth). Off by default so a bare `gunicorn` on a
    developer's machine answers; the chart, kind and the demo turn it on."""

    # Require a signed token on /v1 (QUESTLINE_API_AUTH).
    enabled: bool
    # One file per key, named by its key id (the mounted Secret); required when enabled.
    keys_dir: Path | None
    # The key that signs (dev login, the token CLI); None: the only key of the directory.
    signing_key_id: str | None
    # Lifetime of the tokens this API signs, and the clock skew it tolerates on `exp`/`iat`.
    token_ttl: float
    leeway: float
    # POST /v1/dev/login hands a token to anyone who names a player: local stack and kind only.
    dev_login: bool
    # The legacy GET routes: off (404), open (no credential, as old clients call them), or
    # client-key (a static key in the X-Questline-Client-Key header, read from a file).
    legacy: str
    legacy_client_key_file: Path | None


@dataclasses.dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str
    # The API's Kafka user (QUESTLINE_KAFKA_USERNAME/_PASSWORD, SCRAM-SHA-512): it may only
    # write the events topic. None: no authentication (a listener without SASL).
    kafka_credentials: KafkaCredentials | None
    events_topic: str
    # How long a request waits for Kafka's delivery report before answering 503.
    produce_timeout: float
    # What a 503 tells the client to wait before retrying (Retry-After, seconds).
    retry_after: int
    # Largest number of events in one POST /v1/events:batch.
    batch_max_events: int
    # Largest request body (Flask MAX_CONTENT_LENGTH); larger bodies get 413.
    max_body_bytes: int
    # How long /readyz reuses the answer of its last Kafka metadata request.
    ready_cache_seconds: float
    # Producer tuning: wait this long to fill a batch, compress batches this way.
    kafka_linger_ms: float
    kafka_compression: str
    log_level: str
    access_log: bool
    # gunicorn
    bind: str
    workers: int
    # A request holds its thread while it waits for Kafka, so a worker serves at most
    # `threads` requests at once: more threads than a worker's share of the connections.
    threads: int
    # Each worker listens on a socket of its own (SO_REUSEPORT) and the kernel spreads new
    # connections over them; on one shared socket a busy worker accepted every connection.
    reuse_port: bool
    worker_timeout: int
    graceful_timeout: int
    keepalive: int
    max_header_bytes: int
    # The /dashboard page (web/): Trino to query (None: the page says it is not configured),
    # its catalog and the database the Spark jobs write (the variables they read), how long
    # one worker reuses its answer, how long one refresh may take.
    trino_url: str | None
    trino_login: TrinoLogin  # the dashboard's: QUESTLINE_TRINO_USER (default `dashboard`), _PASSWORD_FILE, _CA_FILE
    trino_catalog: str
    database: str
    dashboard_cache_seconds: float
    dashboard_timeout: float
    auth: AuthSettings


def load_auth(env=None) -> AuthSettings:
    """The auth settings alone (the token CLI needs no Kafka)."""
    env = os.environ if env is None else env
    enabled = flag("QUESTLINE_API_AUTH", False, env=env)
    keys_dir = _directory("QUESTLINE_API_AUTH_KEYS_DIR", required=enabled, env=env)
    legacy = choice("QUESTLINE_API_LEGACY", "open", _LEGACY_ACCESS, env=env)
    dev_login = flag("QUESTLINE_API_AUTH_DEV_LOGIN", False, env=env)
    if dev_login and not enabled:
        raise SettingsError("QUESTLINE_API_AUTH_DEV_LOGIN=true needs QUESTLINE_API_AUTH=true (it signs tokens)")
    return AuthSettings(
        enabled=enabled,
        keys_dir=keys_dir,
        signing_key_id=_key_id("QUESTLINE_API_AUTH_SIGNING_KEY_ID", env),
        token_ttl=number("QUESTLINE_API_AUTH_TTL", 3600, low=10, high=30 * 86400, unit="seconds", env=env),
        leeway=number("QUESTLINE_API_AUTH_LEEWAY", 30, low=0, high=600, unit="seconds", env=env),
        dev_login=dev_login,
        legacy=legacy,
        legacy_client_key_file=_directory(
            "QUESTLINE_API_LEGACY_CLIENT_KEY_FILE", required=legacy == "client-key", env=env, what="file"
        ),
    )


def _key_id(name: str, env) -> str | None:
    if not raw(name, env):
        return None
    return matching(name, None, r"[A-Za-z0-9_-]{1,64}", "a key id: letters, digits, _ or -, e.g. k1", env=env)


def _directory(name: str, *, required: bool, env, what: str = "directory") -> Path | None:
    value = raw(name, env)
    if not value:
        if required:
            raise SettingsError(f"{name} is not set (expected the path of the {what} mounted from the Secret)")
        return None
    return Path(value)


def load(env=None) -> Settings:
    env = os.environ if env is None else env
    url = trino_url("QUESTLINE_TRINO_URL", env=env)
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap_servers("KAFKA_BOOTSTRAP_SERVERS", env=env),
        kafka_credentials=kafka_credentials(env),
        # The same variable the Spark jobs read: benchmarks and tests point both at a
        # topic of their own so their load never lands in the shared tables.
        events_topic=kafka_topic("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS, env=env),
        produce_timeout=number(
            "QUESTLINE_API_PRODUCE_TIMEOUT", 5.0, float, low=0.05, high=120, unit="seconds", env=env
        ),
        retry_after=number("QUESTLINE_API_RETRY_AFTER", 2, low=1, high=3600, unit="seconds", env=env),
        batch_max_events=number("QUESTLINE_API_BATCH_MAX_EVENTS", 1000, low=1, high=100_000, unit="events", env=env),
        max_body_bytes=number(
            "QUESTLINE_API_MAX_BODY_BYTES", 2 * 1024 * 1024, low=1024, high=256 * 1024 * 1024, unit="bytes", env=env
        ),
        ready_cache_seconds=number(
            "QUESTLINE_API_READY_CACHE_SECONDS", 2.0, float, low=0, high=60, unit="seconds", env=env
        ),
        kafka_linger_ms=number(
            "QUESTLINE_API_KAFKA_LINGER_MS", 1.0, float, low=0, high=1000, unit="milliseconds", env=env
        ),
        kafka_compression=choice("QUESTLINE_API_KAFKA_COMPRESSION", "lz4", _COMPRESSIONS, env=env),
        log_level=choice("QUESTLINE_API_LOG_LEVEL", "INFO", _LOG_LEVELS, normalize=str.upper, env=env),
        access_log=flag("QUESTLINE_API_ACCESS_LOG", False, env=env),
        bind=text("QUESTLINE_API_BIND", "0.0.0.0:8000", env=env),
        workers=number("QUESTLINE_API_WORKERS", 2, low=1, high=64, unit="processes", env=env),
        threads=number("QUESTLINE_API_THREADS", 16, low=1, high=256, unit="threads per worker", env=env),
        reuse_port=flag("QUESTLINE_API_REUSE_PORT", True, env=env),
        worker_timeout=number("QUESTLINE_API_WORKER_TIMEOUT", 30, low=1, high=3600, unit="seconds", env=env),
        graceful_timeout=number("QUESTLINE_API_GRACEFUL_TIMEOUT", 15, low=1, high=3600, unit="seconds", env=env),
        keepalive=number("QUESTLINE_API_KEEPALIVE", 5, low=0, high=3600, unit="seconds", env=env),
        max_header_bytes=number("QUESTLINE_API_MAX_HEADER_BYTES", 8190, low=256, high=65_536, unit="bytes", env=env),
        trino_url=url,
        trino_login=trino_login("dashboard", url=url, env=env),
        trino_catalog=sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG, env=env),
        database=sql_name("QUESTLINE_DATABASE", DATABASE, env=env),
        dashboard_cache_seconds=number(
            "QUESTLINE_API_DASHBOARD_CACHE_SECONDS", 5.0, float, low=0.5, high=3600, unit="seconds", env=env
        ),
        dashboard_timeout=number(
            "QUESTLINE_API_DASHBOARD_TIMEOUT", 10.0, float, low=1, high=300, unit="seconds", env=env
        ),
        auth=load_auth(env),
    )
