"""Names other components must agree on. tests/charts checks the charts use them."""

# Defaults of the one setting each (QUESTLINE_EVENTS_TOPIC, QUESTLINE_DATABASE,
# QUESTLINE_TRINO_CATALOG) every component reads, and of the chart values global.topic,
# global.database and global.catalog that set them on Kubernetes.
TOPIC_EVENTS = "events"
DATABASE = "questline"
TRINO_CATALOG = "hive"
SCHEMA_VERSION = 1

# Trino's users (docs/security.md, "Trino"): the pipeline (the Spark jobs) writes the tables and
# registers partitions; every other user only reads the database. The local stack and the chart
# generate a password for each; each component logs in as its own.
TRINO_PIPELINE_USER = "pipeline"
TRINO_READERS: tuple[str, ...] = ("report", "dashboard", "smoke", "analyst")
TRINO_USERS: tuple[str, ...] = (TRINO_PIPELINE_USER, *TRINO_READERS)
# The consumer groups of the Spark jobs' Kafka reads (Spark's `groupIdPrefix`, and the batch
# job's offset reader): the Spark user's ACLs allow reading groups with this prefix only.
SPARK_KAFKA_GROUP_PREFIX = "questline-spark"

# A Kafka record larger than this is not an event: the API refuses it (413) and
# Spark quarantines it with reason "too_large".
MAX_EVENT_BYTES = 64 * 1024

# event family -> event types. Each family is one table; the names `purchases`,
# `joins` and `declarations` are the ones the original game's analysts queried.
EVENT_FAMILIES: dict[str, tuple[str, ...]] = {
    "visits": ("default",),
    "purchases": ("purchase_sword", "purchase_axe", "purchase_shield", "purchase_knife", "purchase_horse"),
    "joins": ("join_guild", "leave_guild"),
    "declarations": ("declare_war", "declare_peace"),
}

EVENT_TYPES: tuple[str, ...] = tuple(t for types in EVENT_FAMILIES.values() for t in types)

# Not a game action: the request to erase every row of one player (DELETE /v1/players/{id}),
# on the events topic so that it reaches Spark exactly once like every event. Spark lands it in
# ERASURE_REQUESTS only (not in `events`); the maintenance job erases the player's rows and
# records each completed request in ERASURE_AUDIT (docs/spark.md, "Erasure").
ERASE_PLAYER = "erase_player"
ERASURE_REQUESTS = "erasure_requests"
ERASURE_AUDIT = "erasure_audit"

# Every table in the `questline` schema: one per family, all valid events, and
# the records that were not valid events.
TABLES: tuple[str, ...] = (*EVENT_FAMILIES, "events", "quarantine")

# Why a Kafka record was quarantined instead of landing in a table.
QUARANTINE_REASONS: tuple[str, ...] = (
    "too_large",  # value longer than MAX_EVENT_BYTES
    "not_json",  # not UTF-8 JSON, or not a JSON object
    "unknown_event_type",  # event_type missing or not in EVENT_TYPES
    "schema_violation",  # a required field missing or of the wrong type/range
)


def family_of(event_type: str) -> str:
    """The table family of an event type; KeyError for an unknown type."""
    for family, types in EVENT_FAMILIES.items():
        if event_type in types:
            return family
    raise KeyError(event_type)
