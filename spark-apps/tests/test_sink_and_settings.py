"""The batch sink on the local file system (same Hadoop FileSystem API as HDFS) and the settings."""

import datetime as dt
import os

import pytest
from pyspark.sql import functions as F
from spark_events import make_event

from questline_spark import settings
from questline_spark.retention import expired_partitions
from questline_spark.sink import Warehouse
from questline_spark.tables import table_specs
from questline_spark.transforms import parse_records, route


def _table_rows(spark, warehouse: Warehouse, table: str) -> int:
    return spark.read.parquet(warehouse.table_dir(table)).count()


def test_rerunning_a_batch_replaces_its_files_instead_of_adding_rows(spark, kafka_rows, tmp_path):
    warehouse = Warehouse(spark, f"file://{tmp_path}/warehouse", f"file://{tmp_path}/warehouse/_staging")
    routed = route(parse_records(kafka_rows(make_event("purchase_sword"), make_event("join_guild"), "junk")))
    first = warehouse.write(routed, table_specs(), "stream-test-000000000007", replace=False)
    # The driver died before the checkpoint commit: the same batch id runs again.
    again = warehouse.write(routed, table_specs(), "stream-test-000000000007", replace=True)
    assert first == again
    expected = {"events": 2, "visits": 0, "purchases": 1, "joins": 1, "declarations": 0, "erasure_requests": 0}
    expected["quarantine"] = 1
    assert first.rows == expected
    # Events by their server date; the junk record (third) by the date Kafka received it, a second after midnight.
    dates = {"events": {"2026-11-27"}, "purchases": {"2026-11-27"}, "joins": {"2026-11-27"}}
    assert first.partitions == {**dates, "quarantine": {"2026-11-28"}}
    assert {t: _table_rows(spark, warehouse, t) for t in first.partitions} == {t: n for t, n in expected.items() if n}
    names = [p.name for p in (tmp_path / "warehouse" / "events" / "event_date=2026-11-27").iterdir()]
    assert all(n.startswith("stream-test-000000000007-") for n in names if not n.startswith("."))
    assert not (tmp_path / "warehouse" / "_staging" / "stream-test-000000000007").exists()


def test_a_later_batch_adds_files_beside_earlier_ones(spark, kafka_rows, tmp_path):
    warehouse = Warehouse(spark, f"file://{tmp_path}/w", f"file://{tmp_path}/w/_staging")
    for batch in range(2):
        routed = route(parse_records(kafka_rows(make_event("default"))))
        warehouse.write(routed, table_specs(), f"stream-test-{batch:012d}", replace=batch == 0)
    assert spark.read.parquet(warehouse.table_dir("events")).select(F.countDistinct("event_id")).first()[0] == 2


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "", "KAFKA_BOOTSTRAP_SERVERS is not set (expected host:port[,host:port])"),
        (
            "KAFKA_BOOTSTRAP_SERVERS",
            "localhost",
            "KAFKA_BOOTSTRAP_SERVERS='localhost' is not a list of host:port (expected host:port[,host:port])",
        ),
        ("QUESTLINE_HDFS_URI", "", "QUESTLINE_HDFS_URI is not set (expected hdfs://host:port)"),
        (
            "QUESTLINE_STREAM_STARTING_OFFSETS",
            "newest",
            "QUESTLINE_STREAM_STARTING_OFFSETS='newest' is invalid (expected earliest or latest)",
        ),
        (
            "QUESTLINE_STREAM_TRIGGER_SECONDS",
            "-1",
            "QUESTLINE_STREAM_TRIGGER_SECONDS='-1' is out of range (expected more than 0 seconds)",
        ),
        (
            "QUESTLINE_SPARK_SHUFFLE_PARTITIONS",
            "two",
            "QUESTLINE_SPARK_SHUFFLE_PARTITIONS='two' is not a whole number (expected 1 or more partitions)",
        ),
        (
            "QUESTLINE_DATABASE",
            "Bad-Name",
            "QUESTLINE_DATABASE='Bad-Name' is not a lower-case SQL name (expected e.g. questline)",
        ),
        (
            "QUESTLINE_EVENTS_TOPIC",
            "my topic",
            "QUESTLINE_EVENTS_TOPIC='my topic' is not a Kafka topic name (expected e.g. events)",
        ),
        (
            "QUESTLINE_TRINO_URL",
            "",
            "QUESTLINE_TRINO_URL is not set (expected http://host:port or https://user:password@host:port)",
        ),
    ],
)
def test_a_wrong_setting_is_named_with_its_value_and_what_is_expected(monkeypatch, variable, value, message):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    monkeypatch.setenv("QUESTLINE_HDFS_URI", "hdfs://127.0.0.1:8020")
    monkeypatch.setenv("QUESTLINE_TRINO_URL", "http://127.0.0.1:8080")
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as error:
        settings.load()
    assert str(error.value) == message


def test_defaults_are_the_documented_ones(monkeypatch):
    for name in [n for n in os.environ if n.startswith("QUESTLINE_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    monkeypatch.setenv("QUESTLINE_HDFS_URI", "hdfs://nn:8020")
    monkeypatch.setenv("QUESTLINE_TRINO_URL", "http://trino:8080")
    loaded = settings.load()
    assert (loaded.database, loaded.events_topic, loaded.spark_master) == ("questline", "events", "local[2]")
    assert loaded.warehouse_dir == "hdfs://nn:8020/questline/warehouse"
    assert (loaded.starting_offsets, loaded.driver_memory, loaded.shuffle_partitions) == ("earliest", "1g", 2)


def test_compaction_defaults_are_the_documented_ones_and_the_database_url_is_required(monkeypatch):
    for name in [n for n in os.environ if n.startswith("QUESTLINE_")]:
        monkeypatch.delenv(name)
    with pytest.raises(settings.SettingsError, match="QUESTLINE_METASTORE_DB_URL is not set"):
        settings.load_compaction()
    monkeypatch.setenv("QUESTLINE_METASTORE_DB_URL", "postgresql://hive@pg:5432/metastore")
    loaded = settings.load_compaction()
    assert (loaded.target_file_mb, loaded.min_files, loaded.quiet_seconds) == (128, 10, 900)
    assert (loaded.keep_replaced_seconds, loaded.lock_timeout_seconds) == (3600, 300)
    assert (loaded.include_open, loaded.loop_seconds, loaded.metastore_db_password) == (False, 0, "")
    monkeypatch.setenv("QUESTLINE_COMPACT_LOCK_TIMEOUT_SECONDS", "1")
    with pytest.raises(settings.SettingsError, match="QUESTLINE_COMPACT_LOCK_TIMEOUT_SECONDS='1' is out of range"):
        settings.load_compaction()


def test_retention_keeps_ninety_days_quarantine_longer_and_per_table_overrides(monkeypatch):
    for name in [n for n in os.environ if n.startswith("QUESTLINE_")]:
        monkeypatch.delenv(name)
    loaded = settings.load_retention()
    assert (loaded.days_of("events"), loaded.days_of("quarantine")) == (90, 180)
    monkeypatch.setenv("QUESTLINE_RETENTION_DAYS_BY_TABLE", "purchases=365, visits=0")
    loaded = settings.load_retention()
    assert (loaded.days_of("purchases"), loaded.days_of("visits"), loaded.days_of("joins")) == (365, 0, 90)
    monkeypatch.setenv("QUESTLINE_RETENTION_DAYS_BY_TABLE", "purchases:365")
    with pytest.raises(settings.SettingsError, match="expected table=days"):
        settings.load_retention()


def test_a_partition_expires_once_its_date_is_more_than_the_kept_days_before_today():
    partitions = [f"event_date=2026-11-{d:02d}" for d in (20, 23, 24, 27)]
    today = dt.date(2026, 11, 27)  # 3 days: 24 to 27 are kept, 24 being exactly 3 days before
    assert expired_partitions(partitions, 3, today) == ["event_date=2026-11-20", "event_date=2026-11-23"]
    assert expired_partitions(partitions, 0, today) == []
