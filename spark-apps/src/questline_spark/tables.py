"""The tables every job writes: their columns, partition column and Trino DDL.

Columns come from the event schema (`schema.event_struct`), renamed where the
original analysts' queries expect another name (`request.user_agent` is the
column `"user-agent"`, as the HTTP header was called).
"""

import dataclasses
import functools

from pyspark.sql.types import (
    BinaryType,
    DataType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from questline_events import ERASE_PLAYER, ERASURE_REQUESTS, EVENT_FAMILIES
from questline_spark.schema import event_struct, payload_fields

EVENTS = "events"
QUARANTINE = "quarantine"

# request.<field> -> column name; the legacy names the analysts' SQL uses.
REQUEST_COLUMNS = {"host": "host", "user_agent": "user-agent", "accept": "accept"}

KAFKA_COLUMNS = StructType(
    [
        StructField("kafka_topic", StringType()),
        StructField("kafka_partition", IntegerType()),
        StructField("kafka_offset", LongType()),
        StructField("kafka_timestamp", TimestampType()),
    ]
)


@dataclasses.dataclass(frozen=True)
class TableSpec:
    name: str
    columns: StructType  # without the partition column
    partition_column: str
    key: tuple[str, ...]  # what makes a row unique: the batch job skips keys already present
    comment: str

    @property
    def column_names(self) -> list[str]:
        return [*self.columns.fieldNames(), self.partition_column]


@functools.cache
def envelope_columns() -> StructType:
    """Every envelope field as a column: request flattened, timestamp typed."""
    fields = []
    for field in event_struct().fields:
        if field.name == "payload":
            continue
        if field.name == "request":
            fields += [StructField(REQUEST_COLUMNS[f.name], f.dataType) for f in field.dataType.fields]
        elif field.name == "timestamp":
            fields.append(StructField("timestamp", TimestampType()))
        else:
            fields.append(field)
    return StructType(fields)


@functools.cache
def table_specs() -> dict[str, TableSpec]:
    """Every table, by name: all events, one per family, quarantine."""
    envelope = envelope_columns()
    specs = [
        TableSpec(
            EVENTS,
            StructType(
                [
                    *envelope.fields,
                    StructField("family", StringType()),
                    StructField("raw_json", StringType()),
                    *KAFKA_COLUMNS.fields,
                ]
            ),
            "event_date",
            ("event_id",),
            "Every valid event: envelope columns and the JSON as received",
        )
    ]
    for family, types in EVENT_FAMILIES.items():
        specs.append(
            TableSpec(
                family,
                StructType([*envelope.fields, *payload_fields(types).fields]),
                "event_date",
                ("event_id",),
                f"Events of types {', '.join(types)}",
            )
        )
    specs.append(
        TableSpec(
            ERASURE_REQUESTS,
            StructType([*envelope.fields, *payload_fields((ERASE_PLAYER,)).fields]),
            "event_date",
            ("event_id",),
            "Requests to erase every row of a player (DELETE /v1/players/{id}); kept: the ids stay erased",
        )
    )
    specs.append(
        TableSpec(
            QUARANTINE,
            StructType(
                [
                    StructField("raw_value", BinaryType()),
                    StructField("raw_text", StringType()),
                    StructField("reason", StringType()),
                    *KAFKA_COLUMNS.fields,
                ]
            ),
            "received_date",
            ("kafka_topic", "kafka_partition", "kafka_offset"),
            "Kafka records that are not valid events, with the reason",
        )
    )
    return {spec.name: spec for spec in specs}


@functools.cache
def stored_columns() -> dict[str, list[str]]:
    """Every column any table stores (partition columns aside) -> the tables that have it.

    One name has one type in every table that has it, so the tables' rows can share
    one DataFrame (see transforms.route).
    """
    types: dict[str, DataType] = {}
    owners: dict[str, list[str]] = {}
    for spec in table_specs().values():
        for field in spec.columns.fields:
            if types.setdefault(field.name, field.dataType) != field.dataType:
                raise ValueError(f"column {field.name!r} has two types: {types[field.name]} and {field.dataType}")
            owners.setdefault(field.name, []).append(spec.name)
    return owners


_TRINO_TYPES: dict[type[DataType], str] = {
    StringType: "varchar",
    LongType: "bigint",
    IntegerType: "integer",
    TimestampType: "timestamp",  # Hive has one timestamp type; Trino reads it at hive.timestamp-precision
    BinaryType: "varbinary",
}


def trino_create_table(spec: TableSpec, qualified_name: str, location: str) -> str:
    """Idempotent Trino DDL for an external, date-partitioned Parquet table."""
    columns = [f'"{f.name}" {_TRINO_TYPES[type(f.dataType)]}' for f in spec.columns.fields]
    columns.append(f'"{spec.partition_column}" varchar')
    body = ",\n  ".join(columns)
    comment = spec.comment.replace("'", "''")
    return (
        f"CREATE TABLE IF NOT EXISTS {qualified_name} (\n  {body}\n)\n"
        f"COMMENT '{comment}'\n"
        f"WITH (format = 'PARQUET', external_location = '{location}', "
        f"partitioned_by = ARRAY['{spec.partition_column}'])"
    )
