"""Every report query against tables with known contents, through the real Trino.

The scratch tables are created with the Spark jobs' own DDL (questline_spark.tables),
so the queries are checked against the columns the real tables have.
"""

import datetime as dt
import decimal
import os

import pytest

from questline_analytics import queries
from questline_analytics import settings as settings_module
from questline_spark.kpis import KpiJob, session_properties
from questline_spark.tables import table_specs, trino_create_table
from questline_stack.scratch import Scratch

pytestmark = pytest.mark.stack


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


# (event_id, event_type, timestamp, player_id, host, item, item_type, strength, price)
PURCHASES = [
    ("p1", "purchase_sword", "2026-01-01 10:05", "alice", "a.com", "sword", "katana", 100, 200),
    ("p2", "purchase_sword", "2026-01-01 10:10", "alice", "a.com", "sword", "katana", 300, 400),
    ("p3", "purchase_sword", "2026-01-01 11:00", "bob", "b.com", "sword", "longsword", 500, 500),
    ("p4", "purchase_horse", "2026-01-02 09:00", "bob", "b.com", "horse", "destrier", 900, 1000),
    ("p5", "purchase_shield", "2026-01-02 09:30", "carol", "a.com", "shield", "buckler", 10, None),
    ("p6", "purchase_sword", "2026-01-02 09:31", "carol", "a.com", "sword", None, 5, None),
]
# (event_id, event_type, timestamp, player_id, guild_name)
JOINS = [
    ("j1", "join_guild", "2026-01-01 10:00", "alice", "Knights"),
    ("j2", "join_guild", "2026-01-01 10:20", "bob", "Knights"),
    ("j3", "join_guild", "2026-01-01 11:30", "carol", "Dragons"),
    ("j4", "leave_guild", "2026-01-01 11:40", "bob", "Knights"),
    ("j5", "join_guild", "2026-01-02 09:00", "bob", "Dragons"),
]
# (event_id, event_type, timestamp, player_id, guild_name, target_guild)
DECLARATIONS = [
    ("d1", "declare_war", "2026-01-01 12:00", "alice", "Knights", "Dragons"),
    ("d2", "declare_peace", "2026-01-01 12:30", "carol", "Dragons", "Knights"),
    ("d3", "declare_war", "2026-01-01 13:00", "alice", "Knights", "Wolves"),
    ("d4", "declare_war", "2026-01-02 10:00", "bob", "Dragons", "Wolves"),
]
# (event_id, event_type, timestamp, player_id)
VISITS = [("v1", "default", "2026-01-02 09:15", "dave"), ("v2", "default", "2026-01-02 09:20", None)]
# (reason, kafka_timestamp)
QUARANTINE = [("not_json", "2026-01-01 08:00"), ("too_large", "2026-01-01 09:00"), ("not_json", "2026-01-02 08:00")]


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and len(value) == 16 and value[:2] == "20" and value[10] == " ":
        return f"TIMESTAMP '{value}:00'"
    return "'" + str(value).replace("'", "''") + "'"


def _insert(cursor, table: str, columns: list[str], rows: list[tuple]) -> None:
    values = ", ".join("(" + ", ".join(_literal(v) for v in row) + ")" for row in rows)
    names = ", ".join(f'"{c}"' for c in columns)
    cursor.execute(f"INSERT INTO {table} ({names}) VALUES {values}")
    cursor.fetchall()


@pytest.fixture(scope="module")
def conn(local_stack):
    """A connection whose default schema is a scratch copy of `questline` with known rows
    (its tables, schema and files removed at the end)."""
    with Scratch(local_stack, "report") as scratch:
        yield from _scratch_copy(scratch)


def _scratch_copy(scratch: Scratch):
    # The report reads as its own user; the pipeline user (the only writer) makes the tables.
    settings = settings_module.load({**os.environ, **scratch.stack.trino_env("report")})
    schema, base = scratch.database, scratch.location
    admin = scratch.stack.trino_connect(catalog=settings.catalog)
    cursor = admin.cursor()
    cursor.execute(f"CREATE SCHEMA hive.{schema} WITH (location = '{base}')")
    cursor.fetchall()
    specs = table_specs()
    for name, spec in specs.items():
        cursor.execute(trino_create_table(spec, f"hive.{schema}.{name}", f"{base}/{name}"))
        cursor.fetchall()
    envelope = ["event_id", "event_type", "timestamp", "player_id", "event_date"]
    day = lambda row: row[2][:10]  # noqa: E731 - the partition of a row is its day
    purchase_cols = [*envelope[:4], "host", "item", "item_type", "strength", "price", "event_date"]
    _insert(cursor, f"hive.{schema}.purchases", purchase_cols, [(*r, day(r)) for r in PURCHASES])
    _insert(cursor, f"hive.{schema}.joins", [*envelope[:4], "guild_name", "event_date"], [(*r, day(r)) for r in JOINS])
    decl_cols = [*envelope[:4], "guild_name", "target_guild", "event_date"]
    _insert(cursor, f"hive.{schema}.declarations", decl_cols, [(*r, day(r)) for r in DECLARATIONS])
    all_events = (
        [(r[0], r[1], r[2], r[3], "purchases", day(r)) for r in PURCHASES]
        + [(r[0], r[1], r[2], r[3], "joins", day(r)) for r in JOINS]
        + [(r[0], r[1], r[2], r[3], "declarations", day(r)) for r in DECLARATIONS]
        + [(*r, "visits", day(r)) for r in VISITS]
    )
    _insert(cursor, f"hive.{schema}.events", [*envelope[:4], "family", "event_date"], all_events)
    _insert(
        cursor,
        f"hive.{schema}.quarantine",
        ["reason", "kafka_timestamp", "received_date"],
        [(r, t, t[:10]) for r, t in QUARANTINE],
    )
    _compute_kpis(scratch.stack, settings, schema, [dt.date(2026, 1, 1), dt.date(2026, 1, 2)])
    yield queries.connect(settings, schema=schema)


def _compute_kpis(stack, settings, schema: str, days: list[dt.date]) -> None:
    """The KPI tables of those days, made by the KPI job itself from the rows above (as the
    pipeline user, the one that may write tables)."""
    kpi_connection = stack.trino_connect(
        catalog=settings.catalog,
        schema=schema,
        session_properties=session_properties(settings.catalog),
    )
    job = KpiJob(kpi_connection, session_gap_minutes=30)
    job.ensure_tables()
    for day in days:
        job.compute_day(day)
    kpi_connection.close()


def answer(conn, name: str) -> list[tuple]:
    result = queries.run_query(conn, queries.query_named(name))
    return [tuple(float(v) if isinstance(v, decimal.Decimal) else v for v in row) for row in result.rows]


def test_every_sql_file_is_covered_by_a_test_here():
    tested = {n.removeprefix("test_") for n in globals() if n.startswith("test_")}
    assert {q.name for q in queries.load_queries()} <= tested


def test_most_popular_items(conn):
    assert answer(conn, "most_popular_items") == [
        ("sword", 4, 66.7, "katana", 2),
        ("horse", 1, 16.7, "destrier", 1),
        ("shield", 1, 16.7, "buckler", 1),
    ]


def test_sword_types(conn):
    assert answer(conn, "sword_types") == [
        ("katana", 2, 200.0, 600),
        ("(unnamed)", 1, 5.0, 0),
        ("longsword", 1, 500.0, 500),
    ]


def test_spend_per_player(conn):
    assert answer(conn, "spend_per_player") == [
        ("bob", "b.com", 2, 1500, 700.0),
        ("alice", "a.com", 2, 600, 200.0),
        ("carol", "a.com", 2, 0, 7.5),
    ]


def test_spend_per_host(conn):
    assert answer(conn, "spend_per_host") == [("b.com", 1, 2, 1500), ("a.com", 2, 4, 600)]


def test_guild_sizes_over_time(conn):
    assert answer(conn, "guild_sizes_over_time") == [
        ("Knights", ts("2026-01-01 10:00"), 2, 0, 2),
        ("Dragons", ts("2026-01-01 11:00"), 1, 0, 1),
        ("Knights", ts("2026-01-01 11:00"), 0, 1, 1),
        ("Dragons", ts("2026-01-02 09:00"), 1, 0, 2),
    ]


def test_most_active_guilds(conn):
    assert answer(conn, "most_active_guilds") == [("Knights", 5, 2, 2, 1, 2, 0), ("Dragons", 4, 2, 2, 0, 1, 1)]


def test_wars_and_peace(conn):
    assert answer(conn, "wars_and_peace") == [
        ("Dragons", 1, 1, 1, 0, 1),
        ("Knights", 2, 0, 0, 1, 1),
        ("Wolves", 0, 2, 0, 0, 2),
    ]


def test_daily_active_players(conn):
    assert answer(conn, "daily_active_players") == [("2026-01-01", 3, 3, 10), ("2026-01-02", 3, 1, 7)]


def test_events_per_hour(conn):
    assert answer(conn, "events_per_hour") == [
        (ts("2026-01-01 10:00"), 4, 0, 2, 2, 0, 2),
        (ts("2026-01-01 11:00"), 3, 0, 1, 2, 0, 2),
        (ts("2026-01-01 12:00"), 2, 0, 0, 0, 2, 2),
        (ts("2026-01-01 13:00"), 1, 0, 0, 0, 1, 1),
        (ts("2026-01-02 09:00"), 6, 2, 3, 1, 0, 3),
        (ts("2026-01-02 10:00"), 1, 0, 0, 0, 1, 1),
    ]


def test_quarantine_by_reason(conn):
    assert answer(conn, "quarantine_by_reason") == [
        ("not_json", 2, ts("2026-01-01 08:00"), ts("2026-01-02 08:00")),
        ("too_large", 1, ts("2026-01-01 09:00"), ts("2026-01-01 09:00")),
    ]


# The KPI sections, over what compute-kpis made of the rows above (docs/analytics.md). Jan 1: alice,
# bob, carol new; 8 sessions (alice 10:00-10:10, then 12:00 and 13:00; bob's and carol's events are
# 40 and 60 minutes apart); alice and bob pay. Jan 2: bob and carol return, dave is new.


def test_daily_kpis(conn):
    assert answer(conn, "daily_kpis") == [
        # Average session minutes 600 / 8 / 60 = 1.25 and 60 / 4 / 60 = 0.25: Trino rounds halves up.
        (dt.date(2026, 1, 1), 3, 3, 3, 100.0, 3, 8, 1.3, 1100, 366.67, 550.0, 66.7),
        (dt.date(2026, 1, 2), 3, 4, 4, 75.0, 1, 4, 0.3, 1000, 333.33, 1000.0, 33.3),
    ]


def test_retention(conn):
    nothing_yet = (None,) * 8
    assert answer(conn, "retention") == [
        (dt.date(2026, 1, 1), 3, 66.7, *nothing_yet),
        (dt.date(2026, 1, 2), 1, None, *nothing_yet),
    ]


def test_funnel(conn):
    # Steps in order: alice's and carol's joins come before their first purchase; bob's second join
    # (Jan 2 09:00, 22 hours after his first purchase) counts, and his war an hour later.
    assert answer(conn, "funnel") == [
        (1, "first_seen", 4, None, None),
        (2, "first_purchase", 3, 75.0, 40.0),
        (3, "guild_joined", 1, 33.3, 1320.0),
        (4, "war_declared", 1, 100.0, 60.0),
    ]


def test_guild_activity(conn):
    assert answer(conn, "guild_activity") == [
        (dt.date(2026, 1, 1), 3, 3, 1, None, 2, 1),
        (dt.date(2026, 1, 2), 2, 1, 0, 0.0, 1, 0),
    ]
