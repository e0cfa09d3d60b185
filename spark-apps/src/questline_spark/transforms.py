"""The one transform library: Kafka records -> validated, deduplicated, routed rows.

Every job uses these functions and only these, in this order:

    parsed = parse_records(kafka_df)        # typed columns + `reason` (null when valid)
    unique = drop_repeated_events(parsed)   # one row per event_id within the DataFrame
    rows   = route(unique)                  # every table's rows, tagged with their table

All of it is Spark SQL expressions (no Python UDFs), so it runs in the JVM at
full speed. The streaming job adds cross-batch deduplication with
`stream_dedup_key` (see stream_events_to_hdfs).
"""

import functools
from collections.abc import Callable

from pyspark import SparkContext
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from questline_events import ERASE_PLAYER, ERASURE_REQUESTS, EVENT_FAMILIES, MAX_EVENT_BYTES, QUARANTINE_REASONS
from questline_spark.schema import TYPED, event_struct, with_validity
from questline_spark.tables import EVENTS, QUARANTINE, REQUEST_COLUMNS, TableSpec, stored_columns, table_specs

TOO_LARGE, NOT_JSON, UNKNOWN_EVENT_TYPE, SCHEMA_VIOLATION = QUARANTINE_REASONS

# The Kafka source's columns -> our names (`timestamp` is the event's own field).
_KAFKA_RENAMES = {
    "topic": "kafka_topic",
    "partition": "kafka_partition",
    "offset": "kafka_offset",
    "timestamp": "kafka_timestamp",
}
# Which copy of a repeated event_id is kept: the one that reached Kafka first.
_ARRIVAL_ORDER = ("kafka_timestamp", "kafka_topic", "kafka_partition", "kafka_offset")


def _reason() -> Column:
    """Why a record is not a valid event, in QUARANTINE_REASONS order of precedence; null if valid."""
    return (
        F.when(F.octet_length("raw_value") > MAX_EVENT_BYTES, F.lit(TOO_LARGE))
        .when(~F.col("_event_is_object"), F.lit(NOT_JSON))
        .when(~F.col("_event_type_known"), F.lit(UNKNOWN_EVENT_TYPE))
        # The server timestamp is the partition key, so it must be a real instant too.
        .when(~F.col("_event_valid") | F.col("_server_time").isNull(), F.lit(SCHEMA_VIOLATION))
    )


def _family(event_type: Column) -> Column:
    cases = [(event_type.isin(list(types)), family) for family, types in EVENT_FAMILIES.items()]
    expr = F.when(*cases[0])
    for condition, family in cases[1:]:
        expr = expr.when(condition, family)
    return expr


def parse_records(kafka: DataFrame) -> DataFrame:
    """Kafka-shaped rows (key, value, topic, partition, offset, timestamp) -> one row per record.

    Columns: the Kafka coordinates, `raw_value` (bytes), `raw_json` (the value as
    text, null unless valid UTF-8), `reason` (null for a valid event), every envelope
    and payload column typed as in the tables, `family`, `event_date` (UTC date of the
    server timestamp) and `received_date` (UTC date Kafka received the record).
    """
    records = kafka.select(
        F.col("value").alias("raw_value"), *(F.col(src).alias(dst) for src, dst in _KAFKA_RENAMES.items())
    )
    text = F.col("raw_value").cast("string")
    records = records.withColumn("raw_json", F.when(F.is_valid_utf8(text), text))
    small_enough = F.octet_length("raw_value") <= MAX_EVENT_BYTES
    records = records.withColumn("_event", F.when(small_enough, F.try_parse_json("raw_json")))
    records = with_validity(records, "_event", "raw_json")
    records = records.withColumn("_server_time", F.try_to_timestamp(F.col(TYPED)["timestamp"]))
    records = records.withColumn("reason", _reason())

    columns = [F.col(c) for c in ("kafka_topic", "kafka_partition", "kafka_offset", "kafka_timestamp")]
    # The bytes are kept for quarantine only: valid events keep their text in raw_json.
    columns += [F.when(F.col("reason").isNotNull(), F.col("raw_value")).alias("raw_value")]
    columns += [F.col("raw_json"), F.col("reason")]
    typed = F.when(F.col("reason").isNull(), F.col(TYPED))
    for field in event_struct().fields:
        if field.name == "request":
            columns += [typed["request"][src].alias(dst) for src, dst in REQUEST_COLUMNS.items()]
        elif field.name == "payload":
            columns += [typed["payload"][f.name].alias(f.name) for f in field.dataType.fields]
        elif field.name == "timestamp":
            columns.append(F.when(F.col("reason").isNull(), F.col("_server_time")).alias("timestamp"))
        else:
            columns.append(typed[field.name].alias(field.name))
    columns += [
        _family(typed["event_type"]).alias("family"),
        F.date_format(F.when(F.col("reason").isNull(), F.col("_server_time")), "yyyy-MM-dd").alias("event_date"),
        F.date_format(F.col("kafka_timestamp"), "yyyy-MM-dd").alias("received_date"),
    ]
    return records.select(*columns)


def drop_repeated_events(parsed: DataFrame) -> DataFrame:
    """Keep one row per event_id (the earliest on Kafka); quarantined rows all stay.

    Deterministic, so re-running the same Kafka range picks the same copies.
    """
    first = Window.partitionBy("event_id").orderBy(*_ARRIVAL_ORDER)
    valid = parsed.where(F.col("reason").isNull())
    valid = valid.withColumn("_copy", F.row_number().over(first)).where("_copy = 1").drop("_copy")
    return valid.unionByName(parsed.where(F.col("reason").isNotNull()))


def without_offsets_below(records: DataFrame, end_offsets: dict[int, int]) -> DataFrame:
    """Records at or above `end_offsets` (Kafka partition -> offset) of their partition.

    The streaming job drops what the batch job has already loaded (see load_events_batch).
    """
    if not end_offsets:
        return records
    partition, offset = F.col("kafka_partition"), F.col("kafka_offset")
    loaded = functools.reduce(
        Column.__or__, [(partition == p) & (offset < end) for p, end in sorted(end_offsets.items())]
    )
    return records.where(~loaded)


def stream_dedup_key(parsed: DataFrame) -> DataFrame:
    """Add `dedup_key`: the event_id of a valid event, the Kafka coordinates otherwise.

    Used by the streaming job's stateful deduplication, so quarantined records
    (which have no trustworthy event_id) are never merged with each other.
    """
    coordinates = F.concat_ws(":", F.lit("kafka"), "kafka_topic", "kafka_partition", "kafka_offset")
    return parsed.withColumn("dedup_key", F.when(F.col("reason").isNull(), F.col("event_id")).otherwise(coordinates))


# The two routing columns of `route`'s output (never a table column).
TARGET_TABLE = "target_table"
TARGET_PARTITION = "target_partition"


def _per_table(value: Callable[[TableSpec], Column]) -> Column:
    """A Column that is `value(spec)` on the rows `route` sends to each table."""
    cases = [(F.col(TARGET_TABLE) == spec.name, value(spec)) for spec in table_specs().values()]
    return functools.reduce(lambda expr, case: expr.when(*case), cases[1:], F.when(*cases[0]))


def route(parsed: DataFrame) -> DataFrame:
    """Every table's rows in one DataFrame, so a micro-batch is computed and written once.

    Valid events appear twice (in `events` and in their family table), erasure
    requests once (in `erasure_requests`), other
    records once (in `quarantine`). `target_table` names the table and
    `target_partition` holds the value of its partition column; the other columns
    are the union of all tables' columns, null where a row's table lacks them. A
    table's Parquet files therefore carry a few all-null columns it does not
    declare: they cost a few bytes, and Trino and Spark read Parquet columns by
    name, so they are never seen.
    """
    targets, columns = _routing_columns(parsed.sparkSession.sparkContext)
    rows = parsed.withColumn("raw_text", F.col("raw_json")).withColumn(TARGET_TABLE, F.explode(targets))
    return rows.select(*columns)


@functools.lru_cache(maxsize=1)
def _routing_columns(context: SparkContext) -> tuple[Column, list[Column]]:
    """`route`'s expressions, built once per SparkContext: building them takes ~1,900
    calls into the JVM (~0.2 s), which the streaming job would pay on every micro-batch."""
    # An erasure request is not a game event: it goes to its own table only.
    targets = (
        F.when(F.col("reason").isNotNull(), F.array(F.lit(QUARANTINE)))
        .when(F.col("event_type") == ERASE_PLAYER, F.array(F.lit(ERASURE_REQUESTS)))
        .otherwise(F.array(F.lit(EVENTS), F.col("family")))
    )
    table = F.col(TARGET_TABLE)
    columns = [table, _per_table(lambda spec: F.col(spec.partition_column)).alias(TARGET_PARTITION)]
    columns += [F.when(table.isin(owners), F.col(name)).alias(name) for name, owners in stored_columns().items()]
    return targets, columns


def table_rows(routed: DataFrame, name: str) -> DataFrame:
    """One table's rows of `route`'s output, with exactly the table's columns."""
    spec = table_specs()[name]
    return routed.where(F.col(TARGET_TABLE) == name).select(
        *spec.columns.fieldNames(), F.col(TARGET_PARTITION).alias(spec.partition_column)
    )


def _row_key(spec: TableSpec) -> Column:
    return F.concat_ws(":", *(F.col(c).cast("string") for c in spec.key))


def without_existing(routed: DataFrame, existing: dict[str, DataFrame]) -> DataFrame:
    """Routed rows whose key is not yet in their table (the batch job's idempotence).

    `existing`: per table, its rows already stored (at least the key columns).
    """
    specs = table_specs()
    keys = functools.reduce(
        DataFrame.unionByName,
        [
            frame.select(F.lit(name).alias(TARGET_TABLE), _row_key(specs[name]).alias("_key"))
            for name, frame in existing.items()
        ],
    )
    return (
        routed.withColumn("_key", _per_table(_row_key))
        .join(keys.distinct(), [TARGET_TABLE, "_key"], "left_anti")
        .drop("_key")
    )


def count_rows() -> list[Column]:
    """Aggregations counting `route`'s rows per table, named after the tables."""
    return [F.count_if(F.col(TARGET_TABLE) == name).alias(name) for name in table_specs()]
