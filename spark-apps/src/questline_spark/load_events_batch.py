"""load_events_batch: load the whole topic (earliest -> latest offset) into the questline tables.

Idempotent: rows whose key is already in a table (event_id for event tables,
topic/partition/offset for quarantine) are skipped, so a re-run changes no
counts and everything the streaming job wrote stays untouched (this job only
adds files under its own names, never deletes). Repeated event_ids within the
topic keep the copy that reached Kafka first. Do not run it while the streaming
job processes the same offsets: both would add the rows they do not yet see.
"""

import argparse
import dataclasses
import datetime as dt
import json
import uuid

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from questline_spark import settings as settings_module
from questline_spark.runtime import Tables, ensure_tables, log, run
from questline_spark.session import spark_session
from questline_spark.settings import Settings
from questline_spark.tables import TableSpec
from questline_spark.transforms import drop_repeated_events, parse_records, route, without_existing


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="load-events-batch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topic", help="Kafka topic (default: QUESTLINE_EVENTS_TOPIC or 'events')")
    return parser.parse_args(argv)


def _existing(spark: SparkSession, tables: Tables, spec: TableSpec) -> DataFrame:
    schema = StructType([*spec.columns.fields, StructField(spec.partition_column, StringType())])
    return spark.read.schema(schema).parquet(tables.warehouse.table_dir(spec.name)).select(*spec.key)


def load(spark: SparkSession, settings: Settings, tables: Tables) -> dict[str, int]:
    """Add the rows of the topic that the tables lack; returns rows added per table."""
    kafka = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap_servers)
        .option("subscribe", settings.events_topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
    routed = route(drop_repeated_events(parse_records(kafka)))
    existing = {name: _existing(spark, tables, spec) for name, spec in tables.specs.items()}
    prefix = f"load-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    written = tables.warehouse.write(without_existing(routed, existing), tables.specs, prefix, replace=False)
    added = tables.registry.register(written.partitions)
    log.info(
        "loaded %s: rows added %s%s",
        settings.events_topic,
        json.dumps(written.rows),
        f"; new partitions {', '.join(added)}" if added else "",
    )
    return written.rows


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    def job() -> None:
        settings = settings_module.load()
        if args.topic:
            settings = dataclasses.replace(settings, events_topic=args.topic)
        settings_module.require_kafka_jars(settings)
        spark = spark_session("load_events_batch", settings)
        tables = ensure_tables(spark, settings)
        load(spark, settings, tables)
        spark.stop()

    run(job)


if __name__ == "__main__":
    main()
