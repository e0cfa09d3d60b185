"""The one definition of a questline event and the names that cross components.

The API validates with it, the simulator builds events with it, the Spark jobs
derive their schema from it, and tests check that the charts use the same names.
"""

from questline_events.names import (
    DATABASE,
    ERASE_PLAYER,
    ERASURE_AUDIT,
    ERASURE_REQUESTS,
    EVENT_FAMILIES,
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    QUARANTINE_REASONS,
    SCHEMA_VERSION,
    SPARK_KAFKA_GROUP_PREFIX,
    TABLES,
    TOPIC_EVENTS,
    TRINO_CATALOG,
    TRINO_PIPELINE_USER,
    TRINO_READERS,
    TRINO_USERS,
    family_of,
)
from questline_events.schema import (
    EventValidationError,
    derive_event_id,
    load_schema,
    new_event_id,
    utc_timestamp,
    validate_event,
)

__all__ = [
    "DATABASE",
    "ERASE_PLAYER",
    "ERASURE_AUDIT",
    "ERASURE_REQUESTS",
    "EVENT_FAMILIES",
    "EVENT_TYPES",
    "MAX_EVENT_BYTES",
    "QUARANTINE_REASONS",
    "SCHEMA_VERSION",
    "SPARK_KAFKA_GROUP_PREFIX",
    "TABLES",
    "TOPIC_EVENTS",
    "TRINO_CATALOG",
    "TRINO_PIPELINE_USER",
    "TRINO_READERS",
    "TRINO_USERS",
    "EventValidationError",
    "derive_event_id",
    "family_of",
    "load_schema",
    "new_event_id",
    "utc_timestamp",
    "validate_event",
]
