"""Event tables of known contents for the KPI tests: created in a scratch database through Trino
(the DDL of the real tables, tables.trino_create_table) and filled with INSERTs, no Kafka or Spark."""

import datetime as dt
import uuid

from questline_events import family_of
from questline_spark.tables import EVENTS, table_specs, trino_create_table

# event type -> the payload columns a row of its family table sets
_PAYLOAD_COLUMNS = {
    "purchases": ("item", "price"),
    "joins": ("guild_name",),
    "declarations": ("guild_name", "target_guild"),
}


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S.%f}'"
    return "'" + str(value).replace("'", "''") + "'"


def event(player: str | None, at: str, event_type: str = "default", **payload) -> dict:
    """One valid event: `at` is the server time, 'YYYY-MM-DD HH:MM[:SS]' UTC."""
    timestamp = dt.datetime.fromisoformat(at)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type,
        "player_id": player,
        "timestamp": timestamp,
        **payload,
    }


class EventTables:
    """The events, purchases, joins and declarations tables of one scratch database."""

    def __init__(self, query, database: str, location: str):
        self.query = query  # runs one statement in the scratch database's catalog
        self.database = database
        self.location = location

    def create(self) -> None:
        self.query(f"CREATE SCHEMA IF NOT EXISTS \"{self.database}\" WITH (location = '{self.location}')")
        for name in (EVENTS, *_PAYLOAD_COLUMNS):
            spec = table_specs()[name]
            self.query(trino_create_table(spec, f'"{self.database}"."{name}"', f"{self.location}/{name}"))

    def insert(self, *events: dict) -> None:
        rows: dict[str, list[str]] = {}
        columns: dict[str, tuple[str, ...]] = {}
        for e in events:
            family = family_of(e["event_type"])
            base = (e["event_id"], e["event_type"], e["player_id"], e["timestamp"])
            day = f"{e['timestamp']:%Y-%m-%d}"
            columns[EVENTS] = ("event_id", "event_type", "player_id", "timestamp", "family", "event_date")
            rows.setdefault(EVENTS, []).append(", ".join(map(_literal, (*base, family, day))))
            if family in _PAYLOAD_COLUMNS:
                extra = _PAYLOAD_COLUMNS[family]
                columns[family] = ("event_id", "event_type", "player_id", "timestamp", *extra, "event_date")
                values = (*base, *(e.get(c) for c in extra), day)
                rows.setdefault(family, []).append(", ".join(map(_literal, values)))
        for table, values in rows.items():
            names = ", ".join(f'"{c}"' for c in columns[table])
            body = ",\n".join(f"({v})" for v in values)
            self.query(f'INSERT INTO "{self.database}"."{table}" ({names}) VALUES {body}')
