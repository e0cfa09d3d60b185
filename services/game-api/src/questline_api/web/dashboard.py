"""The numbers behind /dashboard: a few Trino queries, cached per worker.

A room full of browsers polls /dashboard/data.json every few seconds. Each
gunicorn worker answers from one cached snapshot for `dashboard_cache_seconds`;
when it is stale, one request thread refreshes it while the others keep
serving the stale snapshot, so Trino sees at most one refresh per worker per
period, whatever the number of browsers. Failures are cached the same way: an
unreachable Trino is asked again only once per period, and the page shows why.
"""

import dataclasses
import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import trino

from questline_api.settings import Settings
from questline_events import EVENT_TYPES, TABLES

log = logging.getLogger(__name__)

# Minutes shown by the events-per-minute chart, ending with the current minute.
WINDOW_MINUTES = 30
# Bars per chart: enough to read, few enough to stay cheap.
TOP = 8

# The column that tells when a row of each table happened. Every event table has
# the API's server time; a quarantined record has only Kafka's.
_TIME_COLUMN = {table: '"timestamp"' for table in TABLES} | {"quarantine": "kafka_timestamp"}

# The KPI job's table the funnel chart reads; missing until compute-kpis has run.
_FUNNEL_TABLE = "funnel_steps"

# chart -> (table it reads, SQL giving label and value). They run as one UNION ALL.
_CHARTS: dict[str, tuple[str, str]] = {
    "top_items": (
        "purchases",
        f"""SELECT item || ' · ' || coalesce(item_type, '(unnamed)') AS label, count(*) AS value
            FROM purchases GROUP BY item, item_type ORDER BY value DESC, label LIMIT {TOP}""",
    ),
    "guild_sizes": (
        "joins",
        f"""SELECT guild_name AS label,
                   count_if(event_type = 'join_guild') - count_if(event_type = 'leave_guild') AS value
            FROM joins WHERE guild_name IS NOT NULL
            GROUP BY guild_name ORDER BY value DESC, label LIMIT {TOP}""",
    ),
    "wars_and_peace": (
        "declarations",
        "SELECT event_type AS label, count(*) AS value FROM declarations GROUP BY event_type",
    ),
    "quarantine_by_reason": (
        "quarantine",
        "SELECT reason AS label, count(*) AS value FROM quarantine GROUP BY reason",
    ),
    # Players who reached each step so far, as of the KPI job's last run (docs/analytics.md, "Funnel").
    # Numbered labels: equal counts still list the steps in order.
    "funnel": (
        _FUNNEL_TABLE,
        """SELECT CAST(step_number AS varchar) || ' · ' || replace(step, '_', ' ') AS label, count(*) AS value
           FROM funnel_steps GROUP BY step_number, step""",
    ),
}

# Errors that mean "no numbers right now": Trino down, starting, refusing, or slow.
_UNAVAILABLE = (trino.exceptions.Error, trino.exceptions.HttpError, requests.RequestException, OSError)


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """What one refresh found. Ages are computed when it is served, not when it was taken."""

    status: str  # ok, no_tables, unreachable, not_configured
    message: str | None
    taken_at: dt.datetime
    tables: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    events_per_minute: dict[str, Any] = dataclasses.field(default_factory=dict)
    charts: dict[str, list[dict[str, Any]]] = dataclasses.field(default_factory=dict)
    today: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.status in ("ok", "no_tables")

    def to_json(self, now: dt.datetime, settings: Settings) -> dict[str, Any]:
        tables = []
        for name in TABLES:
            info = self.tables.get(name, {"present": False, "rows": None, "newest": None})
            newest = info["newest"]
            tables.append(
                {
                    "name": name,
                    "present": info["present"],
                    "rows": info["rows"],
                    "newest": _iso(newest),
                    "age_seconds": _age(newest, now),
                }
            )
        newest_overall = max((t["newest"] for t in self.tables.values() if t["newest"]), default=None)
        return {
            "status": self.status,
            "message": self.message,
            "catalog": settings.trino_catalog,
            "schema": settings.database,
            "taken_at": _iso(self.taken_at),
            "snapshot_age_seconds": _age(self.taken_at, now),
            "cache_seconds": settings.dashboard_cache_seconds,
            "newest_row": _iso(newest_overall),
            "newest_row_age_seconds": _age(newest_overall, now),
            "tables": tables,
            "events_per_minute": self.events_per_minute,
            "charts": self.charts,
            "today": self.today,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _age(moment: dt.datetime | None, now: dt.datetime) -> float | None:
    return round(max(0.0, (now - moment).total_seconds()), 1) if moment else None


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    # Trino's timestamp(6) columns come back naive; the pipeline stores UTC.
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def connect(settings: Settings) -> trino.dbapi.Connection:
    return settings.trino_login.connect(
        settings.trino_url,
        catalog=settings.trino_catalog,
        schema=settings.database,
        timezone="UTC",
        # One attempt: the cache asks again next period; retries would only hold a request thread.
        max_attempts=1,
        request_timeout=settings.dashboard_timeout,
    )


def _rows(conn: trino.dbapi.Connection, sql: str, params: list | None = None) -> list[tuple]:
    cursor = conn.cursor()
    try:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def collect(conn: trino.dbapi.Connection, catalog: str, database: str, now: dt.datetime) -> Snapshot:
    """Run the dashboard's queries (four round trips) and shape their rows for the page."""
    present = {
        row[0]
        for row in _rows(conn, "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [database])
    } & {*TABLES, _FUNNEL_TABLE}
    if not present - {_FUNNEL_TABLE}:
        message = (
            f"Trino answers, but {catalog}.{database} has no tables yet: "
            "the Spark jobs create them (create-tables, stream-events-to-hdfs)."
        )
        return Snapshot("no_tables", message, now)

    today = _today(conn, now) if {"events", "purchases"} <= present else {}
    in_order = [t for t in TABLES if t in present]
    stats_sql = " UNION ALL ".join(f"SELECT '{t}', count(*), max({_TIME_COLUMN[t]}) FROM {t}" for t in in_order)
    tables = {
        name: {"present": True, "rows": rows, "newest": _utc(newest)} for name, rows, newest in _rows(conn, stats_sql)
    }

    events_per_minute: dict[str, Any] = {}
    if "events" in present:
        events_per_minute = _events_per_minute(conn, now)

    charts: dict[str, list[dict[str, Any]]] = {name: [] for name in _CHARTS}
    usable = [(name, sql) for name, (table, sql) in _CHARTS.items() if table in present]
    if usable:
        union = " UNION ALL ".join(f"SELECT '{name}' AS chart, label, value FROM ({sql})" for name, sql in usable)
        for chart, label, value in _rows(conn, union):
            charts[chart].append({"label": label, "value": value})
        for rows in charts.values():
            rows.sort(key=lambda r: (-r["value"], r["label"]))

    missing = sorted(set(TABLES) - present)
    message = f"Not created yet: {', '.join(missing)}." if missing else None
    return Snapshot("ok", message, now, tables, events_per_minute, charts, today)


def _today(conn: trino.dbapi.Connection, now: dt.datetime) -> dict[str, Any]:
    """Today's (UTC) active players, revenue and payers, live from today's partitions, as
    docs/analytics.md defines them (the KPI tables hold the same numbers as of their last run)."""
    day = now.strftime("%Y-%m-%d")
    ((players, revenue, payers),) = _rows(
        conn,
        """SELECT (SELECT count(DISTINCT player_id) FROM events WHERE event_date = ?),
                  (SELECT coalesce(sum(price), 0) FROM purchases WHERE event_date = ?),
                  (SELECT count(DISTINCT player_id) FROM purchases WHERE event_date = ? AND price > 0)""",
        [day, day, day],
    )
    return {"day": day, "active_players": players, "revenue": revenue, "paying_players": payers}


def _events_per_minute(conn: trino.dbapi.Connection, now: dt.datetime) -> dict[str, Any]:
    """Counts per minute and event type over the window, zeros included, oldest first."""
    end = now.replace(second=0, microsecond=0)
    start = end - dt.timedelta(minutes=WINDOW_MINUTES - 1)
    rows = _rows(
        conn,
        """SELECT date_trunc('minute', "timestamp"), event_type, count(*) FROM events
           WHERE event_date >= ? AND "timestamp" >= ? GROUP BY 1, 2""",
        # The date bound lets Trino skip old partitions; the timestamp bound is the window.
        [start.strftime("%Y-%m-%d"), start.replace(tzinfo=None)],
    )
    minutes = [start + dt.timedelta(minutes=i) for i in range(WINDOW_MINUTES)]
    index = {m: i for i, m in enumerate(minutes)}
    counts = {t: [0] * WINDOW_MINUTES for t in EVENT_TYPES}
    for minute, event_type, count in rows:
        slot = index.get(_utc(minute))
        if slot is not None and event_type in counts:
            counts[event_type][slot] = count
    return {"minutes": [_iso(m) for m in minutes], "counts": {t: c for t, c in counts.items() if any(c)}}


class DashboardData:
    """One worker's cache of the dashboard snapshot (thread-safe, single refresh at a time)."""

    def __init__(
        self,
        settings: Settings,
        connector: Callable[[Settings], Any] = connect,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self._connector = connector
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._expires = 0.0

    def snapshot(self) -> Snapshot:
        if self._snapshot is not None and self._clock() < self._expires:
            return self._snapshot
        # Another thread is refreshing: serve what we have rather than queue behind it.
        if not self._lock.acquire(blocking=self._snapshot is None):
            return self._snapshot
        try:
            if self._snapshot is None or self._clock() >= self._expires:
                self._snapshot = self._refresh()
                self._expires = self._clock() + self.settings.dashboard_cache_seconds
            return self._snapshot
        finally:
            self._lock.release()

    def _refresh(self) -> Snapshot:
        now = utc_now()
        if self.settings.trino_url is None:
            return Snapshot("not_configured", "QUESTLINE_TRINO_URL is not set: the API does not know Trino.", now)
        try:
            settings = self.settings
            return collect(self._connector(settings), settings.trino_catalog, settings.database, now)
        except _UNAVAILABLE as exc:
            log.warning("dashboard: Trino at %s not usable: %s", self.settings.trino_url, exc)
            return Snapshot("unreachable", f"Trino at {self.settings.trino_url} did not answer: {_reason(exc)}", now)


def _reason(exc: Exception) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    # requests buries the socket error ("[Errno 111] Connection refused") in a long repr.
    socket_error = re.search(r"\[Errno -?\d+\] [^'\")]+", text)
    return socket_error.group(0) if socket_error else text.splitlines()[-1][:300]
