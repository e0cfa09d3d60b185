"""Every setting of the Spark jobs, read from environment variables in one place.

Flags of the entrypoints override some of them (see each job's --help). Errors say
what was wrong and what is expected; `questline-stack env` prints the values for
the local stack.
"""

import dataclasses
import os
import re

from questline_events import DATABASE, TOPIC_EVENTS, TRINO_CATALOG


class SettingsError(ValueError):
    pass


def _required(name: str, expected: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set (expected {expected})")
    return value


def _optional(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _positive(name: str, default: str, kind: type[int] | type[float] = int) -> int | float:
    raw = _optional(name, default)
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} is not a positive {kind.__name__}")
    return value


def _matching(name: str, default: str, pattern: str, expected: str) -> str:
    value = _optional(name, default)
    if not re.fullmatch(pattern, value):
        raise SettingsError(f"{name}={value!r} is invalid (expected {expected})")
    return value


@dataclasses.dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str
    events_topic: str
    hdfs_uri: str
    warehouse_dir: str  # one directory per table below it
    database: str
    trino_url: str
    trino_catalog: str
    trino_user: str
    spark_master: str
    spark_jars: tuple[str, ...]
    driver_memory: str
    # Also the dedup state partitions, fixed when a checkpoint is created. One per task slot
    # of local[2]: 4 on two cores cost 8-10 % of the throughput (twice the state stores to
    # commit and Parquet files to write per batch) and made twice as many small files.
    shuffle_partitions: int
    trigger_seconds: float
    starting_offsets: str
    max_offsets_per_trigger: int
    checkpoint_dir: str
    dedup_window: str

    @property
    def staging_dir(self) -> str:
        # Beside the tables, never inside one: Trino lists table directories.
        return f"{self.warehouse_dir}/_staging"


def _hdfs_uri() -> str:
    uri = _required("QUESTLINE_HDFS_URI", "hdfs://host:port").rstrip("/")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*://[^/\s]+", uri) and not uri.startswith("file:"):
        raise SettingsError(f"QUESTLINE_HDFS_URI={uri!r} is invalid (expected hdfs://host:port)")
    return uri


def _address(name: str, pattern: str, expected: str) -> str:
    value = _required(name, expected)
    if not re.fullmatch(pattern, value):
        raise SettingsError(f"{name}={value!r} is invalid (expected {expected})")
    return value


def load() -> Settings:
    hdfs = _hdfs_uri()
    return Settings(
        kafka_bootstrap_servers=_address(
            "KAFKA_BOOTSTRAP_SERVERS", r"[^\s,:]+:\d+(,[^\s,:]+:\d+)*", "host:port[,host:port]"
        ),
        events_topic=_optional("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS),
        hdfs_uri=hdfs,
        warehouse_dir=_optional("QUESTLINE_WAREHOUSE_DIR", f"{hdfs}/questline/warehouse").rstrip("/"),
        database=_matching("QUESTLINE_DATABASE", DATABASE, r"[a-z][a-z0-9_]*", "a lower-case SQL name"),
        trino_url=_address("QUESTLINE_TRINO_URL", r"https?://[^/\s]+/?", "http://host:port"),
        trino_catalog=_optional("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        trino_user=_optional("QUESTLINE_TRINO_USER", "questline-spark"),
        spark_master=_optional("QUESTLINE_SPARK_MASTER", "local[2]"),
        spark_jars=tuple(j.strip() for j in _optional("QUESTLINE_SPARK_JARS", "").split(",") if j.strip()),
        driver_memory=_matching("QUESTLINE_SPARK_DRIVER_MEMORY", "1g", r"\d+[mg]", "a size such as 1g or 768m"),
        shuffle_partitions=_positive("QUESTLINE_SPARK_SHUFFLE_PARTITIONS", "2"),
        trigger_seconds=_positive("QUESTLINE_STREAM_TRIGGER_SECONDS", "2", float),
        starting_offsets=_matching(
            "QUESTLINE_STREAM_STARTING_OFFSETS", "earliest", r"earliest|latest", "earliest or latest"
        ),
        max_offsets_per_trigger=_positive("QUESTLINE_STREAM_MAX_OFFSETS_PER_TRIGGER", "250000"),
        checkpoint_dir=_optional(
            "QUESTLINE_STREAM_CHECKPOINT_DIR", f"{hdfs}/questline/checkpoints/stream_events_to_hdfs"
        ),
        dedup_window=_matching(
            "QUESTLINE_DEDUP_WINDOW", "24 hours", r"\d+ (seconds|minutes|hours|days)", "e.g. '24 hours'"
        ),
    )


def require_kafka_jars(settings: Settings) -> None:
    """The Kafka jobs cannot start without the connector jars; say how to get them."""
    if not settings.spark_jars:
        raise SettingsError(
            "QUESTLINE_SPARK_JARS is not set (expected the comma-separated paths of the "
            "spark-sql-kafka-0-10 connector jars; `questline-stack env` prints them for the local stack)"
        )
    missing = [j for j in settings.spark_jars if not os.path.exists(j)]
    if missing:
        raise SettingsError(f"QUESTLINE_SPARK_JARS names missing file(s): {', '.join(missing)}")
