"""stream_events_to_hdfs: the streaming job, Kafka topic -> the questline tables, exactly once.

Where it starts: a brand-new job (no checkpoint yet) reads the topic from the
earliest offset still on Kafka (QUESTLINE_STREAM_STARTING_OFFSETS, default
`earliest`), so events the API accepted before Spark first ran are not lost. A
restart with an existing checkpoint ignores that setting and resumes after the
last committed micro-batch; a batch that was running when the job died is run
again with the same offsets and replaces whatever it had already written.

Repeated event_ids: copies within a micro-batch are dropped, and across batches
a stateful deduplication remembers every event_id for QUESTLINE_DEDUP_WINDOW
(default 24 hours) of Kafka time, then forgets it.

After the batch job: records below the offsets it recorded as loaded are
skipped (they are in the tables already), so a new streaming job that starts at
`earliest` after a backfill does not write them twice.

Every micro-batch: files land in the tables under names carrying the batch id,
new date partitions are registered in the metastore in the same batch, and one
log line gives the batch id, rows per table and the Kafka lag.
"""

import argparse
import dataclasses
import hashlib
import json
import time

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQueryListener

from questline_spark import settings as settings_module
from questline_spark.runtime import Tables, ensure_tables, log, run
from questline_spark.session import spark_session
from questline_spark.settings import Settings
from questline_spark.transforms import parse_records, route, stream_dedup_key, without_offsets_below


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="stream-events-to-hdfs", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--topic", help="Kafka topic (default: QUESTLINE_EVENTS_TOPIC or 'events')")
    parser.add_argument("--checkpoint", help="checkpoint directory (default: QUESTLINE_STREAM_CHECKPOINT_DIR)")
    parser.add_argument("--trigger-seconds", type=float, help="micro-batch interval (QUESTLINE_STREAM_TRIGGER_SECONDS)")
    parser.add_argument(
        "--starting-offsets", choices=("earliest", "latest"), help="for a new checkpoint only (default: earliest)"
    )
    parser.add_argument(
        "--available-now", action="store_true", help="process what is on Kafka now, then stop (backfills, benchmarks)"
    )
    return parser.parse_args(argv)


def _apply_flags(settings: Settings, args: argparse.Namespace) -> Settings:
    overrides = {
        "events_topic": args.topic,
        "checkpoint_dir": args.checkpoint,
        "trigger_seconds": args.trigger_seconds,
        "starting_offsets": args.starting_offsets,
    }
    return dataclasses.replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def writer_id(checkpoint_dir: str) -> str:
    """Stable per checkpoint: two streaming queries never touch each other's files."""
    return "stream-" + hashlib.sha1(checkpoint_dir.encode()).hexdigest()[:10]


class BatchWriter:
    """The foreachBatch function: route, write, register partitions, log."""

    def __init__(self, tables: Tables, writer: str, topic: str):
        self.tables = tables
        self.writer = writer
        self.topic = topic
        self.first = True

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        # Offsets the batch job loaded are in the tables already. Dropped here, after
        # the deduplication, so their event_ids still catch later retries.
        batch = without_offsets_below(batch.drop("dedup_key"), self.tables.warehouse.loaded_offsets(self.topic))
        written = self.tables.warehouse.write(
            route(batch), self.tables.specs, f"{self.writer}-{batch_id:012d}", replace=self.first
        )
        wrote = time.monotonic()
        added = self.tables.registry.register(written.partitions)
        self.first = False
        log.info(
            "batch %d: rows %s in %.1fs (read, parse, write %.1fs; register %.1fs)%s",
            batch_id,
            json.dumps(written.rows),
            time.monotonic() - started,
            wrote - started,
            time.monotonic() - wrote,
            f"; new partitions {', '.join(added)}" if added else "",
        )


class ProgressLogger(StreamingQueryListener):
    """One line per trigger with the Kafka lag, from Spark's own progress report."""

    def onQueryStarted(self, event):
        log.info("query %s started (run %s)", event.id, event.runId)

    def onQueryProgress(self, event):
        progress = event.progress
        lag = [s.metrics.get("maxOffsetsBehindLatest") for s in progress.sources if s.metrics]
        state = progress.stateOperators[0] if progress.stateOperators else None
        metrics = state.customMetrics if state else {}
        log.info(
            "progress batch %d: %d input rows, %.0f rows/s, max offsets behind latest %s, took %d ms; "
            "dedup: %s new ids, %s repeats dropped (update %s ms, eviction %s ms, commit %s ms)",
            progress.batchId,
            progress.numInputRows,
            progress.processedRowsPerSecond or 0.0,
            ",".join(str(v) for v in lag if v is not None) or "0",
            progress.batchDuration,
            metrics.get("rocksdbPutCount"),
            metrics.get("numDroppedDuplicateRows"),
            state and state.allUpdatesTimeMs,
            state and state.allRemovalsTimeMs,
            state and state.commitTimeMs,
        )

    def onQueryIdle(self, event):
        pass

    def onQueryTerminated(self, event):
        log.info("query %s terminated%s", event.id, f": {event.exception}" if event.exception else "")


def start(spark: SparkSession, settings: Settings, tables: Tables, *, available_now: bool = False):
    source = (
        spark.readStream.format("kafka")
        .options(**settings_module.kafka_source_options(settings))
        .option("subscribe", settings.events_topic)
        .option("startingOffsets", settings.starting_offsets)
        .option("maxOffsetsPerTrigger", settings.max_offsets_per_trigger)
        .load()
    )
    unique = (
        stream_dedup_key(parse_records(source))
        .withWatermark("kafka_timestamp", settings.dedup_window)
        .dropDuplicatesWithinWatermark(["dedup_key"])
    )
    writer = unique.writeStream.foreachBatch(
        BatchWriter(tables, writer_id(settings.checkpoint_dir), settings.events_topic)
    )
    writer = writer.option("checkpointLocation", settings.checkpoint_dir).queryName("stream_events_to_hdfs")
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{settings.trigger_seconds} seconds")
    return writer.start()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    def job() -> None:
        settings = _apply_flags(settings_module.load(), args)
        settings_module.require_kafka_jars(settings)
        spark = spark_session("stream_events_to_hdfs", settings)
        spark.streams.addListener(ProgressLogger())
        tables = ensure_tables(spark, settings)
        log.info(
            "reading %s from %s (new checkpoint starts at %s), checkpoint %s, trigger %ss",
            settings.events_topic,
            settings.kafka_bootstrap_servers,
            settings.starting_offsets,
            settings.checkpoint_dir,
            settings.trigger_seconds,
        )
        query = start(spark, settings, tables, available_now=args.available_now)
        query.awaitTermination()

    run(job)


if __name__ == "__main__":
    main()
