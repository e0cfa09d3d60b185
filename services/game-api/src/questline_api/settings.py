"""Every setting of the game API, read from environment variables in one place.

KAFKA_BOOTSTRAP_SERVERS is the standard name and is required; everything else
starts with QUESTLINE_API_ and has a default that suits the local stack. A bad
value stops the process with a message naming the variable and what it expects.
"""

import dataclasses
import os
import re
from urllib.parse import urlsplit

from questline_events import DATABASE, TOPIC_EVENTS, TRINO_CATALOG

_HOST_PORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
_COMPRESSIONS = ("none", "gzip", "snappy", "lz4", "zstd")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_MIB = 1024 * 1024


class SettingsError(ValueError):
    pass


def _bootstrap_servers(env) -> str:
    raw = env.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if not raw:
        raise SettingsError("KAFKA_BOOTSTRAP_SERVERS is not set (expected host:port[,host:port])")
    servers = [s.strip() for s in raw.split(",")]
    if not all(_HOST_PORT.match(s) for s in servers):
        raise SettingsError(
            f"KAFKA_BOOTSTRAP_SERVERS={raw!r} is not a list of host:port (expected host:port[,host:port])"
        )
    return ",".join(servers)


def _number(env, name: str, default, kind, minimum, maximum, unit: str):
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number of {unit} (expected {minimum}..{maximum})") from None
    if not minimum <= value <= maximum:
        raise SettingsError(f"{name}={raw!r} is out of range (expected {minimum}..{maximum} {unit})")
    return value


def _choice(env, name: str, default: str, choices: tuple[str, ...], normalize=str.lower) -> str:
    raw = env.get(name, default)
    value = normalize(raw.strip())
    if value not in choices:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return value


def _flag(env, name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} is not a boolean (expected true or false)")


def _sql_name(env, name: str, default: str) -> str:
    raw = env.get(name, "").strip() or default
    if not re.fullmatch(r"[a-z][a-z0-9_]*", raw):
        raise SettingsError(f"{name}={raw!r} is not a lower-case SQL name (expected e.g. {default})")
    return raw


def _events_topic(env) -> str:
    # The same variable the Spark jobs read: benchmarks and tests point both at a
    # topic of their own so their load never lands in the shared tables.
    raw = env.get("QUESTLINE_EVENTS_TOPIC", "").strip() or TOPIC_EVENTS
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,249}", raw):
        raise SettingsError(f"QUESTLINE_EVENTS_TOPIC={raw!r} is not a Kafka topic name (expected e.g. {TOPIC_EVENTS})")
    return raw


def _trino_url(env) -> str | None:
    raw = env.get("QUESTLINE_TRINO_URL", "").strip()
    if not raw:
        return None
    url = urlsplit(raw)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise SettingsError(f"QUESTLINE_TRINO_URL={raw!r} is not an http(s) URL (expected http://host:port)")
    return raw.rstrip("/")


@dataclasses.dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str
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
    threads: int
    worker_timeout: int
    graceful_timeout: int
    keepalive: int
    max_header_bytes: int
    # The /dashboard page (web/): Trino to query (None: the page says it is not configured),
    # its catalog and the database the Spark jobs write (the variables they read), how long
    # one worker reuses its answer, how long one refresh may take.
    trino_url: str | None
    trino_catalog: str
    database: str
    dashboard_cache_seconds: float
    dashboard_timeout: float


def load(env=None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        kafka_bootstrap_servers=_bootstrap_servers(env),
        events_topic=_events_topic(env),
        produce_timeout=_number(env, "QUESTLINE_API_PRODUCE_TIMEOUT", 5.0, float, 0.05, 120, "seconds"),
        retry_after=_number(env, "QUESTLINE_API_RETRY_AFTER", 2, int, 1, 3600, "seconds"),
        batch_max_events=_number(env, "QUESTLINE_API_BATCH_MAX_EVENTS", 1000, int, 1, 100_000, "events"),
        max_body_bytes=_number(
            env, "QUESTLINE_API_MAX_BODY_BYTES", 2 * 1024 * 1024, int, 1024, 256 * 1024 * 1024, "bytes"
        ),
        ready_cache_seconds=_number(env, "QUESTLINE_API_READY_CACHE_SECONDS", 2.0, float, 0, 60, "seconds"),
        kafka_linger_ms=_number(env, "QUESTLINE_API_KAFKA_LINGER_MS", 1.0, float, 0, 1000, "milliseconds"),
        kafka_compression=_choice(env, "QUESTLINE_API_KAFKA_COMPRESSION", "lz4", _COMPRESSIONS),
        log_level=_choice(env, "QUESTLINE_API_LOG_LEVEL", "INFO", _LOG_LEVELS, normalize=str.upper),
        access_log=_flag(env, "QUESTLINE_API_ACCESS_LOG", False),
        bind=env.get("QUESTLINE_API_BIND", "0.0.0.0:8000"),
        workers=_number(env, "QUESTLINE_API_WORKERS", 2, int, 1, 64, "processes"),
        threads=_number(env, "QUESTLINE_API_THREADS", 8, int, 1, 256, "threads per worker"),
        worker_timeout=_number(env, "QUESTLINE_API_WORKER_TIMEOUT", 30, int, 1, 3600, "seconds"),
        graceful_timeout=_number(env, "QUESTLINE_API_GRACEFUL_TIMEOUT", 15, int, 1, 3600, "seconds"),
        keepalive=_number(env, "QUESTLINE_API_KEEPALIVE", 5, int, 0, 3600, "seconds"),
        max_header_bytes=_number(env, "QUESTLINE_API_MAX_HEADER_BYTES", 8190, int, 256, 65_536, "bytes"),
        trino_url=_trino_url(env),
        trino_catalog=_sql_name(env, "QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        database=_sql_name(env, "QUESTLINE_DATABASE", DATABASE),
        dashboard_cache_seconds=_number(env, "QUESTLINE_API_DASHBOARD_CACHE_SECONDS", 5.0, float, 0.5, 3600, "seconds"),
        dashboard_timeout=_number(env, "QUESTLINE_API_DASHBOARD_TIMEOUT", 10.0, float, 1, 300, "seconds"),
    )
