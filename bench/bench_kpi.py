"""One incremental compute-kpis day beside a full recomputation of every day, and the report's KPI queries.

Builds --days days of --events-per-day synthetic events (--players players; visits, purchases
with prices, joins, declarations) in a database of its own with the jobs' table DDL, generated
inside Trino (INSERT ... SELECT over sequences; no Kafka, no Spark). Then, in this order:

1. full: `compute-kpis --from <first> --to <last>` over empty KPI tables (every day);
2. incremental: `compute-kpis --day <last>` again (what the CronJob does per day);
3. the report's KPI sections (services/analytics sql 11-14) over the KPI tables, and its
   08_daily_active_players over the raw events (a full scan) as the baseline they replace.

Prints wall times and ratios; writes them as JSON to $QUESTLINE_BENCH_RESULT when set (bench/run_all.py).
Needs the stack up and `eval "$(questline-stack env)"`.
Usage: python bench/bench_kpi.py [--days 7] [--events-per-day 200000] [--players 20000] [--repeat 3]
(issue 22 asks for 10 million events: --days 10 --events-per-day 1000000)
"""

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from questline_events import TRINO_CATALOG
from questline_spark.tables import table_specs, trino_create_table
from questline_stack import settings as stack_settings
from questline_stack.scratch import Scratch

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "services/analytics/src/questline_analytics/sql"
FIRST_DAY = dt.date(2026, 10, 1)

# i -> event type: 6 visits, 2 purchases, 1 join or leave, 1 declaration in every 10 events.
_TYPE = (
    "CASE i % 10 WHEN 6 THEN 'purchase_sword' WHEN 7 THEN 'purchase_horse' "
    "WHEN 8 THEN IF(i % 20 = 8, 'join_guild', 'leave_guild') "
    "WHEN 9 THEN IF(i % 20 = 9, 'declare_war', 'declare_peace') ELSE 'default' END"
)
_FAMILY = (
    "CASE i % 10 WHEN 6 THEN 'purchases' WHEN 7 THEN 'purchases' WHEN 8 THEN 'joins' "
    "WHEN 9 THEN 'declarations' ELSE 'visits' END"
)


def _generated(day: dt.date, events: int, players: int) -> str:
    """One day's synthetic events as a query: (i, event_id, player_id, timestamp, event_type, family)."""
    side = int(events**0.5) + 1
    return (
        f"SELECT i, to_hex(md5(to_utf8('{day}:' || CAST(i AS varchar)))) AS event_id, "
        f"'p' || CAST((i * 7919 + {day.toordinal()}) % {players} AS varchar) AS player_id, "
        f"TIMESTAMP '{day} 00:00:00' + i * INTERVAL '1' SECOND * 86399 / {events} AS ts, "
        f"{_TYPE} AS event_type, {_FAMILY} AS family "
        f"FROM (SELECT a * {side} + b AS i FROM UNNEST(sequence(0, {side - 1})) x(a) "
        f"CROSS JOIN UNNEST(sequence(0, {side - 1})) y(b)) WHERE i < {events}"
    )


def build(query, database: str, location: str, days: int, events: int, players: int) -> None:
    query(f"CREATE SCHEMA \"{database}\" WITH (location = '{location}')")
    for name in ("events", "purchases", "joins", "declarations"):
        query(trino_create_table(table_specs()[name], f'"{database}"."{name}"', f"{location}/{name}"))
    for n in range(days):
        day = FIRST_DAY + dt.timedelta(days=n)
        rows = _generated(day, events, players)
        query(
            f'INSERT INTO "{database}".events (event_id, event_type, player_id, "timestamp", family, event_date) '
            f"SELECT event_id, event_type, player_id, ts, family, '{day}' FROM ({rows})"
        )
        query(
            f'INSERT INTO "{database}".purchases (event_id, event_type, player_id, "timestamp", item, price, '
            f"event_date) SELECT event_id, event_type, player_id, ts, IF(i % 10 = 6, 'sword', 'horse'), "
            f"CAST(i % 500 AS bigint), '{day}' FROM ({rows}) WHERE family = 'purchases'"
        )
        query(
            f'INSERT INTO "{database}".joins (event_id, event_type, player_id, "timestamp", guild_name, event_date) '
            f"SELECT event_id, event_type, player_id, ts, 'guild' || CAST(i % 97 AS varchar), '{day}' "
            f"FROM ({rows}) WHERE family = 'joins'"
        )
        query(
            f'INSERT INTO "{database}".declarations (event_id, event_type, player_id, "timestamp", guild_name, '
            f"target_guild, event_date) SELECT event_id, event_type, player_id, ts, "
            f"'guild' || CAST(i % 97 AS varchar), 'guild' || CAST(i % 89 AS varchar), '{day}' "
            f"FROM ({rows}) WHERE family = 'declarations'"
        )
        print(f"built {day}: {events:,} events", flush=True)


def compute(env: dict, *args: str) -> float:
    started = time.monotonic()
    done = subprocess.run([BIN / "compute-kpis", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"compute-kpis {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    for line in (done.stdout + done.stderr).splitlines():
        if "kpis 20" in line:  # the job's line per day: rows and seconds per table
            print("  " + line.split("questline_spark: ", 1)[-1], flush=True)
    return time.monotonic() - started


def timed(query, sql: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.monotonic()
        query(sql)
        times.append(time.monotonic() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--events-per-day", type=int, default=200_000)
    parser.add_argument("--players", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stack = stack_settings.load()
    last = FIRST_DAY + dt.timedelta(days=args.days - 1)
    with Scratch(stack, "benchkpi", make_topic=False) as scratch:
        connection = stack.trino_connect(catalog=TRINO_CATALOG, schema=scratch.database)

        def query(sql: str) -> list:
            cursor = connection.cursor()
            cursor.execute(sql)
            return cursor.fetchall()

        started = time.monotonic()
        build(query, scratch.database, scratch.location, args.days, args.events_per_day, args.players)
        build_seconds = time.monotonic() - started
        env = {**os.environ, **stack.client_env(), **scratch.env}
        full = compute(env, "--from", f"{FIRST_DAY}", "--to", f"{last}")
        incremental = compute(env, "--day", f"{last}")
        report = {p.stem: timed(query, p.read_text(), args.repeat) for p in sorted(SQL.glob("1[1-4]_*.sql"))}
        baseline = timed(query, (SQL / "08_daily_active_players.sql").read_text(), args.repeat)
        connection.close()

    total = args.days * args.events_per_day
    print(f"\n{total:,} events over {args.days} days ({args.events_per_day:,}/day, {args.players:,} players)")
    print(f"  build (Trino INSERT ... SELECT)            {build_seconds:8.1f} s")
    print(f"  full recomputation, {args.days} days             {full:8.1f} s")
    print(f"  one incremental day                       {incremental:8.1f} s  ({full / incremental:.1f}x less)")
    for name, seconds in report.items():
        print(f"  report {name:<35}{seconds:8.2f} s (median of {args.repeat})")
    print(f"  report 08_daily_active_players (raw scan) {baseline:8.2f} s (median of {args.repeat})")
    result = {
        "events": total,
        "days": args.days,
        "build_seconds": build_seconds,
        "full_recomputation_seconds": full,
        "incremental_day_seconds": incremental,
        "report_query_seconds": report,
        "raw_daily_active_players_seconds": baseline,
    }
    if os.environ.get("QUESTLINE_BENCH_RESULT"):
        Path(os.environ["QUESTLINE_BENCH_RESULT"]).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
