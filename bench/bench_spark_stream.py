"""Streaming throughput of stream_events_to_hdfs against a plain Spark Kafka -> Parquet copy.

Pre-loads N events (default 1,000,000; 1 % malformed, 1 % client retries) into a
fresh topic of the local stack's Kafka, then, in one Spark session on
QUESTLINE_SPARK_MASTER (default local[2]):

  1. baseline: a streaming query that copies the topic to Parquet untouched
     (Kafka source -> file sink, same maxOffsetsPerTrigger): Spark's ceiling;
  2. the real job: parse, validate, deduplicate, route, write six tables and
     register partitions (availableNow, fresh checkpoint, its own database).

Prints events/s of both and their ratio, twice: over the whole run (query start
to finish, so the first micro-batch's JIT and code generation warm-up counts) and
over the steady micro-batches only (every full batch after the first, from
Spark's own progress reports: input rows / trigger time). A long-running stream
lives in the second regime; the first is what a short backfill sees. Writes the
numbers to $QUESTLINE_BENCH_RESULT when set (bench/run_all.py).

Needs the stack up and `eval "$(questline-stack env)"`.
Usage: python bench/bench_spark_stream.py [--events N]
"""

import argparse
import dataclasses
import json
import logging
import os
import time
import uuid
from pathlib import Path

from confluent_kafka import Producer
from pyspark.sql.streaming import StreamingQueryListener

from questline_events import EVENT_TYPES, utc_timestamp
from questline_spark import settings as settings_module
from questline_spark.runtime import ensure_tables
from questline_spark.session import spark_session
from questline_spark.stream_events_to_hdfs import start
from questline_stack import settings as stack_settings
from questline_stack.scratch import Scratch

PAYLOADS = {
    "default": {},
    "purchase": lambda t: {"item": t.removeprefix("purchase_"), "item_type": None, "strength": 10, "price": 5},
    "join_guild": {"guild_name": "knights"},
    "leave_guild": {"guild_name": "knights"},
    "declare_war": {"guild_name": "knights", "target_guild": "orcs"},
    "declare_peace": {"guild_name": "knights", "target_guild": "orcs"},
}


def _event(i: int, stamp: str) -> dict:
    event_type = EVENT_TYPES[i % len(EVENT_TYPES)]
    payload = PAYLOADS["purchase"](event_type) if event_type.startswith("purchase_") else PAYLOADS[event_type]
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "timestamp": stamp,
        "source": "v1",
        "player_id": f"player-{i % 5000}",
        "client_event_id": None,
        "client_time": None,
        "description": f"{event_type} by player-{i % 5000}",
        "request": {"host": "questline.localtest.me", "user_agent": "bench/1", "accept": "application/json"},
        "payload": payload,
    }


def preload(stack: stack_settings.Settings, topic: str, count: int) -> None:
    # As the stack's admin: the Spark user may not write.
    producer = Producer(stack.kafka_config(**{"linger.ms": 50, "batch.size": 1_000_000, "compression.type": "lz4"}))
    stamp = utc_timestamp()
    previous = None
    started = time.monotonic()
    for i in range(count):
        if i % 100 == 1:
            value = b'{"not": "an event"'
        elif i % 100 == 2 and previous is not None:
            value = previous  # a client retry: same event_id again
        else:
            value = json.dumps(_event(i, stamp)).encode()
            previous = value
        while True:
            try:
                producer.produce(topic, value=value, key=str(i % 5000).encode())
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush(300)
    print(f"preloaded {count:,} records into {topic} in {time.monotonic() - started:.1f}s")


class TriggerTimes(StreamingQueryListener):
    """Input rows and trigger time of every micro-batch, per query name."""

    def __init__(self):
        self.batches: dict[str, list[tuple[int, int]]] = {}

    def onQueryStarted(self, event):
        pass

    def onQueryIdle(self, event):
        pass

    def onQueryTerminated(self, event):
        pass

    def onQueryProgress(self, event):
        progress = event.progress
        rows, millis = progress.numInputRows, progress.durationMs.get("triggerExecution", 0)
        self.batches.setdefault(progress.name or "baseline", []).append((rows, millis))

    def steady_rate(self, name: str, full: int) -> float | None:
        """events/s over the batches after the first that read a full `full` records."""
        steady = [(rows, millis) for rows, millis in self.batches.get(name, [])[1:] if rows >= full * 0.99]
        if not steady:
            return None
        return sum(rows for rows, _ in steady) / (sum(millis for _, millis in steady) / 1000)


def baseline(spark, settings, root: str) -> float:
    source = (
        spark.readStream.format("kafka")
        .options(**settings_module.kafka_source_options(settings))
        .option("subscribe", settings.events_topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", settings.max_offsets_per_trigger)
        .load()
    )
    query = (
        source.writeStream.format("parquet")
        .option("path", f"{root}/baseline")
        .option("checkpointLocation", f"{root}/baseline-checkpoint")
        .trigger(availableNow=True)
        .start()
    )
    started = time.monotonic()
    query.awaitTermination()
    return time.monotonic() - started


def real_job(spark, settings) -> float:
    tables = ensure_tables(spark, settings)
    started = time.monotonic()
    start(spark, settings, tables, available_now=True).awaitTermination()
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # A topic, database and HDFS directory of this run, removed at the end (questline_stack.scratch).
    with Scratch(stack_settings.load(), "benchstream") as scratch:
        measure(args, scratch)


def measure(args, scratch: Scratch) -> None:
    root = scratch.root
    settings = dataclasses.replace(
        settings_module.load(),
        events_topic=scratch.topic,
        database=scratch.database,
        warehouse_dir=scratch.location,
        checkpoint_dir=f"{root}/checkpoint",
    )
    settings_module.require_kafka_jars(settings)
    preload(scratch.stack, settings.events_topic, args.events)
    spark = spark_session("bench_spark_stream", settings)
    triggers = TriggerTimes()
    spark.streams.addListener(triggers)
    print(
        f"spark master {settings.spark_master}, driver memory {settings.driver_memory}, "
        f"maxOffsetsPerTrigger {settings.max_offsets_per_trigger}, cores {os.cpu_count()}"
    )
    plain = args.events / baseline(spark, settings, root)
    job = args.events / real_job(spark, settings)
    time.sleep(2)  # progress events reach the Python listener asynchronously
    full = settings.max_offsets_per_trigger
    plain_steady = triggers.steady_rate("baseline", full)
    job_steady = triggers.steady_rate("stream_events_to_hdfs", full)
    spark.stop()

    def rate(value: float | None) -> str:
        return f"{value:10,.0f} events/s" if value else "    (fewer than two full batches)"

    print(f"whole run   baseline Kafka->Parquet copy : {rate(plain)}")
    print(f"whole run   stream_events_to_hdfs        : {rate(job)}   ratio {job / plain:.2f}")
    print(f"steady      baseline Kafka->Parquet copy : {rate(plain_steady)}")
    ratio = f"   ratio {job_steady / plain_steady:.2f}" if job_steady and plain_steady else ""
    print(f"steady      stream_events_to_hdfs        : {rate(job_steady)}{ratio}")
    print("target: stream_events_to_hdfs >= 30,000 events/s")
    if result_file := os.environ.get("QUESTLINE_BENCH_RESULT"):
        numbers = {
            "events": args.events,
            "max_offsets_per_trigger": full,
            "baseline_events_per_s": round(plain),
            "job_events_per_s": round(job),
            "baseline_steady_events_per_s": plain_steady and round(plain_steady),
            "job_steady_events_per_s": job_steady and round(job_steady),
        }
        Path(result_file).write_text(json.dumps(numbers))


if __name__ == "__main__":
    main()
