"""The derived KPI tables and how one day of them is computed (definitions: docs/analytics.md).

Each table has one SQL file in kpi_sql/, an `INSERT` that produces exactly the rows of one
day's partition; they run in the files' order, since later ones read what earlier ones
wrote for the same day. Trino runs them with `insert_existing_partitions_behavior =
OVERWRITE`, so the day's partition is replaced and nothing else is touched.
"""

import dataclasses
import datetime as dt
import logging
import re
import time
from importlib import resources

import trino

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class KpiTable:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, Trino type), the partition column last
    comment: str

    @property
    def partition_column(self) -> str:
        return self.columns[-1][0]

    def create_sql(self) -> str:
        body = ",\n  ".join(f'"{name}" {kind}' for name, kind in self.columns)
        comment = self.comment.replace("'", "''")
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} (\n  {body}\n)\n"
            f"COMMENT '{comment}'\n"
            f"WITH (format = 'PARQUET', partitioned_by = ARRAY['{self.partition_column}'])"
        )


KPI_TABLES: tuple[KpiTable, ...] = (
    KpiTable(
        "player_days",
        (
            ("player_id", "varchar"),
            ("events", "bigint"),
            ("purchases", "bigint"),
            ("revenue", "bigint"),
            ("first_event_at", "timestamp(3)"),
            ("last_event_at", "timestamp(3)"),
            ("activity_date", "date"),
        ),
        "One row per active player and UTC day (server time)",
    ),
    KpiTable(
        "player_first_seen",
        (("player_id", "varchar"), ("first_seen_at", "timestamp(3)"), ("first_seen_date", "date")),
        "One row per player: the day of the first valid event",
    ),
    KpiTable(
        "sessions",
        (
            ("player_id", "varchar"),
            ("session_start", "timestamp(3)"),
            ("session_end", "timestamp(3)"),
            ("length_seconds", "double"),
            ("events", "bigint"),
            ("purchases", "bigint"),
            ("spend", "bigint"),
            ("session_date", "date"),
        ),
        "Sessions cut by inactivity, in the partition of the day they start",
    ),
    KpiTable(
        "retention",
        (
            ("cohort_date", "date"),
            ("day_number", "bigint"),
            ("cohort_size", "bigint"),
            ("retained_players", "bigint"),
            ("activity_date", "date"),
        ),
        "Players of each first-seen cohort of the last 30 days active on the day",
    ),
    KpiTable(
        "funnel_steps",
        (
            ("player_id", "varchar"),
            ("step_number", "integer"),
            ("step", "varchar"),
            ("reached_at", "timestamp(3)"),
            ("reached_date", "date"),
        ),
        "The funnel step each player reached, on the day reached",
    ),
    KpiTable(
        "guild_days",
        (
            ("guild_name", "varchar"),
            ("joins", "bigint"),
            ("leaves", "bigint"),
            ("members_at_start", "bigint"),
            ("members_at_end", "bigint"),
            ("membership_churn", "double"),
            ("wars_declared", "bigint"),
            ("peace_declared", "bigint"),
            ("wars_received", "bigint"),
            ("peace_received", "bigint"),
            ("activity_date", "date"),
        ),
        "One row per guild named in an event of the day",
    ),
    KpiTable(
        "daily_kpis",
        (
            ("dau", "bigint"),
            ("wau", "bigint"),
            ("mau", "bigint"),
            ("stickiness", "double"),
            ("new_players", "bigint"),
            ("returning_players", "bigint"),
            ("sessions", "bigint"),
            ("avg_session_seconds", "double"),
            ("purchases", "bigint"),
            ("revenue", "bigint"),
            ("paying_players", "bigint"),
            ("arpdau", "double"),
            ("arppu", "double"),
            ("paying_share", "double"),
            ("active_guilds", "bigint"),
            ("joins", "bigint"),
            ("leaves", "bigint"),
            ("wars_declared", "bigint"),
            ("peace_declared", "bigint"),
            ("day", "date"),
        ),
        "One row per computed UTC day: the studio's daily numbers",
    ),
)


def day_statements() -> list[tuple[KpiTable, str]]:
    """(table, SQL template) in the order a day is computed: `1_player_days.sql` first."""
    tables = {t.name: t for t in KPI_TABLES}
    files = [p for p in resources.files("questline_spark").joinpath("kpi_sql").iterdir() if p.name.endswith(".sql")]
    ordered = sorted(files, key=lambda p: int(p.name.split("_", 1)[0]))
    statements = []
    for path in ordered:
        name = re.sub(r"^\d+_", "", path.name.removesuffix(".sql"))
        statements.append((tables[name], path.read_text("utf-8")))
    if [t.name for t, _ in statements] != [t.name for t in KPI_TABLES]:
        raise RuntimeError("kpi_sql/ and KPI_TABLES disagree on the tables or their order")
    return statements


def session_properties(catalog: str) -> dict[str, str]:
    """What a connection running the KPI statements needs."""
    return {
        # Each INSERT replaces the partitions it writes (one day) and no other.
        f"{catalog}.insert_existing_partitions_behavior": "OVERWRITE",
        # The metastore keeps Trino's statistics of a timestamp column empty, and Trino then fails
        # to read them back when it replaces that partition (HIVE_INVALID_METADATA). The KPI
        # tables are a few rows per day: the planner needs no statistics of them.
        f"{catalog}.collect_column_statistics_on_write": "false",
    }


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise ValueError(f"--to {last} is before --from {first}")
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


@dataclasses.dataclass
class DayOutcome:
    day: dt.date
    rows: dict[str, int]
    seconds: float
    table_seconds: dict[str, float] = dataclasses.field(default_factory=dict)

    def line(self) -> str:
        rows = ", ".join(f"{name} {n} ({self.table_seconds.get(name, 0):.1f} s)" for name, n in self.rows.items())
        return f"kpis {self.day}: {rows}; {self.seconds:.1f} s"


class KpiJob:
    """Computes the KPI tables of given days through one Trino connection (catalog and schema set)."""

    def __init__(self, connection: trino.dbapi.Connection, session_gap_minutes: int):
        self.connection = connection
        self.session_gap_minutes = session_gap_minutes

    def execute(self, sql: str) -> list[list]:
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetchall()
        finally:
            cursor.close()

    def ensure_tables(self) -> None:
        for table in KPI_TABLES:
            self.execute(table.create_sql())

    def compute_day(self, day: dt.date) -> DayOutcome:
        started = time.monotonic()
        values = {
            "day": day.isoformat(),
            "previous_day": (day - dt.timedelta(days=1)).isoformat(),
            "next_day": (day + dt.timedelta(days=1)).isoformat(),
            "gap_minutes": self.session_gap_minutes,
        }
        rows, seconds = {}, {}
        for table, template in day_statements():
            statement_started = time.monotonic()
            ((written,),) = self.execute(template.format(**values))
            if written == 0:
                # An overwrite of nothing leaves the old partition in place: drop it instead.
                self.execute(f"DELETE FROM {table.name} WHERE \"{table.partition_column}\" = DATE '{day.isoformat()}'")
            rows[table.name] = written
            seconds[table.name] = time.monotonic() - statement_started
        return DayOutcome(day, rows, time.monotonic() - started, seconds)
