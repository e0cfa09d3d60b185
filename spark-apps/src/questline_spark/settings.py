"""Every setting of the Spark jobs, read from environment variables in one place.

Flags of the entrypoints override some of them (see each job's --help). Errors say
what was wrong and what is expected; `questline-stack env` prints the values for
the local stack.
"""

import dataclasses
import os
import re

from questline_events import DATABASE, SPARK_KAFKA_GROUP_PREFIX, TOPIC_EVENTS, TRINO_CATALOG, TRINO_PIPELINE_USER
from questline_settings import (
    SettingsError,
    flag,
    jvm_size,
    kafka_bootstrap_servers,
    kafka_topic,
    matching,
    number,
    required,
    sql_name,
    text,
)
from questline_settings.kafka import KafkaCredentials, client_config, kafka_credentials
from questline_settings.trino import TrinoLogin, trino_login, trino_url

__all__ = [
    "CompactionSettings",
    "KpiSettings",
    "RetentionSettings",
    "Settings",
    "SettingsError",
    "kafka_client_config",
    "kafka_source_options",
    "load",
    "load_compaction",
    "load_kpi",
    "load_retention",
    "require_kafka_jars",
]


@dataclasses.dataclass(frozen=True)
class Settings:
    kafka_bootstrap_servers: str
    # Spark's Kafka user (QUESTLINE_KAFKA_USERNAME/_PASSWORD): it may only read the events
    # topic, in consumer groups named SPARK_KAFKA_GROUP_PREFIX*. None: no authentication.
    kafka_credentials: KafkaCredentials | None
    events_topic: str
    hdfs_uri: str
    warehouse_dir: str  # one directory per table below it
    database: str
    trino_url: str
    trino_catalog: str
    trino_login: TrinoLogin  # the pipeline's: QUESTLINE_TRINO_USER (default `pipeline`), _PASSWORD_FILE, _CA_FILE
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
    uri = required("QUESTLINE_HDFS_URI", "hdfs://host:port").rstrip("/")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*://[^/\s]+", uri) and not uri.startswith("file:"):
        raise SettingsError(f"QUESTLINE_HDFS_URI={uri!r} is invalid (expected hdfs://host:port)")
    return uri


def load() -> Settings:
    hdfs = _hdfs_uri()
    url = trino_url("QUESTLINE_TRINO_URL", required=True)
    return Settings(
        kafka_bootstrap_servers=kafka_bootstrap_servers("KAFKA_BOOTSTRAP_SERVERS"),
        kafka_credentials=kafka_credentials(),
        events_topic=kafka_topic("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS),
        hdfs_uri=hdfs,
        warehouse_dir=text("QUESTLINE_WAREHOUSE_DIR", f"{hdfs}/questline/warehouse").rstrip("/"),
        database=sql_name("QUESTLINE_DATABASE", DATABASE),
        trino_url=url,
        trino_catalog=sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        trino_login=trino_login(TRINO_PIPELINE_USER, url=url),
        spark_master=text("QUESTLINE_SPARK_MASTER", "local[2]"),
        spark_jars=tuple(j.strip() for j in text("QUESTLINE_SPARK_JARS", "").split(",") if j.strip()),
        driver_memory=jvm_size("QUESTLINE_SPARK_DRIVER_MEMORY", "1g"),
        shuffle_partitions=number("QUESTLINE_SPARK_SHUFFLE_PARTITIONS", 2, low=1, unit="partitions"),
        trigger_seconds=number("QUESTLINE_STREAM_TRIGGER_SECONDS", 2.0, float, low=0, above=True, unit="seconds"),
        starting_offsets=matching(
            "QUESTLINE_STREAM_STARTING_OFFSETS", "earliest", r"earliest|latest", "earliest or latest"
        ),
        max_offsets_per_trigger=number(
            "QUESTLINE_STREAM_MAX_OFFSETS_PER_TRIGGER", 250_000, low=1, unit="records per batch"
        ),
        checkpoint_dir=text("QUESTLINE_STREAM_CHECKPOINT_DIR", f"{hdfs}/questline/checkpoints/stream_events_to_hdfs"),
        dedup_window=matching(
            "QUESTLINE_DEDUP_WINDOW", "24 hours", r"\d+ (seconds|minutes|hours|days)", "e.g. '24 hours'"
        ),
    )


def kafka_source_options(settings: Settings) -> dict[str, str]:
    """What every Kafka read of the jobs sets: the servers, the user, and the consumer groups'
    prefix (Spark makes up a group id per query; the Spark user may read only these groups)."""
    return {
        "kafka.bootstrap.servers": settings.kafka_bootstrap_servers,
        **(settings.kafka_credentials.spark_options() if settings.kafka_credentials else {}),
        "groupIdPrefix": SPARK_KAFKA_GROUP_PREFIX,
    }


def kafka_client_config(settings: Settings, **extra) -> dict[str, object]:
    """A confluent-kafka configuration as the jobs' Kafka user (the batch job's offset reader)."""
    return client_config(settings.kafka_bootstrap_servers, settings.kafka_credentials, **extra)


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


@dataclasses.dataclass(frozen=True)
class CompactionSettings:
    metastore_db_url: str  # the Hive metastore's PostgreSQL: partition locations are swapped there
    metastore_db_password: str  # kept out of the URL (from a Secret on Kubernetes); empty: the URL's
    target_file_mb: int
    min_files: int
    quiet_seconds: float
    keep_replaced_seconds: float
    lock_timeout_seconds: float
    include_open: bool
    loop_seconds: float  # 0: one pass
    pause_before: str  # crash tests only: a rewrite stops before this stage (compaction.PAUSE_STAGES)


def load_compaction() -> CompactionSettings:
    return CompactionSettings(
        metastore_db_url=required("QUESTLINE_METASTORE_DB_URL", "postgresql://user[:password]@host:port/database"),
        metastore_db_password=text("QUESTLINE_METASTORE_DB_PASSWORD", ""),
        target_file_mb=number("QUESTLINE_COMPACT_TARGET_FILE_MB", 128, low=1, high=4096, unit="MiB"),
        min_files=number("QUESTLINE_COMPACT_MIN_FILES", 10, low=2, unit="files"),
        quiet_seconds=number("QUESTLINE_COMPACT_QUIET_SECONDS", 900.0, float, low=0, unit="seconds"),
        keep_replaced_seconds=number("QUESTLINE_COMPACT_KEEP_REPLACED_SECONDS", 3600.0, float, low=0, unit="seconds"),
        lock_timeout_seconds=number("QUESTLINE_COMPACT_LOCK_TIMEOUT_SECONDS", 300.0, float, low=4, unit="seconds"),
        include_open=flag("QUESTLINE_COMPACT_INCLUDE_OPEN", False),
        loop_seconds=number("QUESTLINE_COMPACT_LOOP_SECONDS", 0.0, float, low=0, unit="seconds"),
        pause_before=matching(
            "QUESTLINE_COMPACT_PAUSE_BEFORE",
            "",
            r"|write|generation|swap|release",
            "write, generation, swap or release",
        ),
    )


@dataclasses.dataclass(frozen=True)
class RetentionSettings:
    """Days each table keeps; 0 keeps it forever. A partition whose date is more than that many
    days before today (UTC) is dropped by the maintenance run."""

    days: int  # every table without an entry of its own
    quarantine_days: int  # longer by default: bad records are what one debugs a producer with
    by_table: dict[str, int]  # table -> days, overriding the two above

    def days_of(self, table: str) -> int:
        default = self.quarantine_days if table == "quarantine" else self.days
        return self.by_table.get(table, default)


def _days_by_table(name: str) -> dict[str, int]:
    value = text(name, "").strip()
    found: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        table, _, days = item.partition("=")
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", table.strip()) or not days.strip().isdigit():
            raise SettingsError(f"{name}={value!r} is invalid (expected table=days[,table=days], e.g. purchases=365)")
        found[table.strip()] = int(days)
    return found


def load_retention() -> RetentionSettings:
    return RetentionSettings(
        days=number("QUESTLINE_RETENTION_DAYS", 90, low=0, unit="days (0: keep forever)"),
        quarantine_days=number("QUESTLINE_QUARANTINE_RETENTION_DAYS", 180, low=0, unit="days (0: keep forever)"),
        by_table=_days_by_table("QUESTLINE_RETENTION_DAYS_BY_TABLE"),
    )


@dataclasses.dataclass(frozen=True)
class KpiSettings:
    """compute-kpis (docs/analytics.md): only Trino, read the way Settings reads it."""

    trino_url: str
    trino_catalog: str
    trino_login: TrinoLogin  # it writes the KPI tables: the pipeline's login, as Settings
    database: str
    session_gap_minutes: int  # more than this without an event ends a session
    lookback_days: int  # with no --day/--from: today and the days before it, this many in all


def load_kpi() -> KpiSettings:
    url = trino_url("QUESTLINE_TRINO_URL", required=True)
    return KpiSettings(
        trino_url=url,
        trino_catalog=sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        trino_login=trino_login(TRINO_PIPELINE_USER, url=url),
        database=sql_name("QUESTLINE_DATABASE", DATABASE),
        session_gap_minutes=number("QUESTLINE_KPI_SESSION_GAP_MINUTES", 30, low=1, high=1440, unit="minutes"),
        lookback_days=number("QUESTLINE_KPI_LOOKBACK_DAYS", 2, low=1, high=400, unit="days"),
    )
