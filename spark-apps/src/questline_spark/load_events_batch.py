"""load_events_batch: load the whole topic (earliest -> latest offset) into the questline tables.

Idempotent: rows whose key is already in a table (event_id for event tables,
topic/partition/offset for quarantine) are skipped, so a re-run changes no
counts and everything the streaming job wrote stays untouched (this job only
adds files under its own names, never deletes). Repeated event_ids within the
topic keep the copy that reached Kafka first.

It reads up to the latest offsets of the moment it starts and, once its files are
in place, records those offsets as loaded (`<warehouse>/_loaded/<topic>/`): the
streaming job skips records below them, so a streaming job started afterwards,
even a new one reading from `earliest`, does not write them again. Do not run it
while the streaming job processes the same offsets: both would add the rows they
do not yet see.
"""

import argparse
import dataclasses
import datetime as dt
import json
import uuid

from confluent_kafka import Consumer, TopicPartition
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from questline_events import SPARK_KAFKA_GROUP_PREFIX
from questline_spark import settings as settings_module
from questline_spark.runtime import Tables, ensure_tables, log, run
from questline_spark.session import spark_session
from questline_spark.settings import Settings, SettingsError
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
    keys = spark.read.schema(schema).parquet(tables.warehouse.table_dir(spec.name)).select(*spec.key)
    # Compacted rows live in hidden generation directories that Spark's listing skips. A key
    # counted twice (a replaced file not yet deleted) only matters to an anti-join as "present".
    generations = tables.warehouse.compacted_dirs(spec)
    if generations:
        keys = keys.unionByName(spark.read.schema(spec.columns).parquet(*generations).select(*spec.key))
    return keys


def end_offsets(settings: Settings) -> dict[int, int]:
    """The topic's latest offset per partition now: where this run stops reading."""
    # Only offsets are read (no group is joined); the id is within the Spark user's groups anyway.
    consumer = Consumer(
        settings_module.kafka_client_config(settings, **{"group.id": f"{SPARK_KAFKA_GROUP_PREFIX}-load-events-batch"})
    )
    try:
        topic = consumer.list_topics(settings.events_topic, timeout=30).topics[settings.events_topic]
        if topic.error is not None:
            raise SettingsError(f"topic {settings.events_topic!r}: {topic.error.str()}")
        return {
            p: consumer.get_watermark_offsets(TopicPartition(settings.events_topic, p), timeout=30)[1]
            for p in sorted(topic.partitions)
        }
    finally:
        consumer.close()


def load(spark: SparkSession, settings: Settings, tables: Tables) -> dict[str, int]:
    """Add the rows of the topic that the tables lack; returns rows added per table."""
    ends = end_offsets(settings)
    log.info("reading %s from the earliest offsets to %s", settings.events_topic, json.dumps(ends))
    kafka = (
        spark.read.format("kafka")
        .options(**settings_module.kafka_source_options(settings))
        .option("subscribe", settings.events_topic)
        .option("startingOffsets", "earliest")
        .option("endingOffsets", json.dumps({settings.events_topic: {str(p): o for p, o in ends.items()}}))
        .load()
    )
    routed = route(drop_repeated_events(parse_records(kafka)))
    existing = {name: _existing(spark, tables, spec) for name, spec in tables.specs.items()}
    prefix = f"load-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    written = tables.warehouse.write(without_existing(routed, existing), tables.specs, prefix, replace=False)
    added = tables.registry.register(written.partitions)
    tables.warehouse.record_loaded(settings.events_topic, prefix, ends)
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
