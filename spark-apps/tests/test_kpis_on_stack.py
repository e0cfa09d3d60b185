"""compute-kpis against the local stack's Trino: every KPI table over event tables of known contents
(docs/analytics.md), with a session over midnight, a gap of exactly 30 minutes, a player back on exactly
day 7, a late event, a zero-revenue day and an event without a player; then a re-run that changes nothing.
And a simulated 30 days (questline_loadgen.days) through Kafka and the batch job: every KPI equals the
simulator's ground truth."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kpi_events import EventTables, event
from stack_jobs import Run

from questline_events import TRINO_CATALOG, TRINO_PIPELINE_USER
from questline_loadgen.days import DaysPlan, simulate
from questline_spark.kpis import KPI_TABLES
from questline_stack.scratch import Scratch

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1800)]

BIN = Path(sys.executable).parent
NOV = {n: dt.date(2026, 11, n) for n in range(1, 10)}

EVENTS = [
    # Nov 1: ann goes through the whole funnel; bob's session starts at 23:50 and ends after midnight.
    event("ann", "2026-11-01 10:00"),
    event("ann", "2026-11-01 10:10", "purchase_sword", item="sword", price=100),
    event("ann", "2026-11-01 10:20", "join_guild", guild_name="wolves"),
    event("ann", "2026-11-01 10:25", "declare_war", guild_name="wolves", target_guild="bears"),
    event(None, "2026-11-01 11:00"),  # a legacy visit without player: an event, never a player
    event("bob", "2026-11-01 23:50"),
    event("bob", "2026-11-02 00:10"),
    event("bob", "2026-11-02 00:35", "purchase_axe", item="axe", price=50),
    # Nov 2: ann returns (D1) and leaves; cat joins before buying (does not count) and after (counts),
    # 50 minutes apart (two sessions); dan's two events are exactly 30 minutes apart (one session).
    event("ann", "2026-11-02 09:00"),
    event("ann", "2026-11-02 09:05", "leave_guild", guild_name="wolves"),
    event("cat", "2026-11-02 12:00"),
    event("cat", "2026-11-02 12:05", "join_guild", guild_name="bears"),
    event("cat", "2026-11-02 12:10", "purchase_shield", item="shield", price=0),
    event("cat", "2026-11-02 13:00", "join_guild", guild_name="bears"),
    event("dan", "2026-11-02 08:00"),
    event("dan", "2026-11-02 08:30"),
    # Nov 3: a zero-revenue day: one purchase without a price (a legacy route), no payer.
    event("eve", "2026-11-03 10:00"),
    event("eve", "2026-11-03 10:01", "purchase_knife", item="knife", price=None),
    # Nov 8: bob back on exactly day 7 of his cohort.
    event("bob", "2026-11-08 12:00"),
]
LATE = event("fay", "2026-11-02 15:00")  # lands after Nov 2 was computed


class KpiRun:
    def __init__(self, stack, scratch: Scratch, logs: Path):
        self.env = {**os.environ, **stack.client_env(), **stack.trino_env(TRINO_PIPELINE_USER), **scratch.env}
        self.database = scratch.database
        self.logs = logs
        self.connection = stack.trino_connect(  # the pipeline's login: the test writes events
            catalog=TRINO_CATALOG,
            schema=scratch.database,
            # Appending to a partition merges column statistics, and Trino cannot merge those of a
            # column that is null in every row (the Kafka columns here): HIVE_INVALID_METADATA.
            session_properties={f"{TRINO_CATALOG}.collect_column_statistics_on_write": "false"},
        )

    def query(self, sql: str) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]

    def compute(self, *args: str) -> None:
        log = self.logs / f"compute-kpis-{'_'.join(args).replace('-', '')}.log"
        with open(log, "wb") as out:
            done = subprocess.run([BIN / "compute-kpis", *args], env=self.env, stdout=out, stderr=subprocess.STDOUT)
        assert done.returncode == 0, f"compute-kpis {' '.join(args)} failed: {log.read_text()[-3000:]}"

    def daily(self, day: dt.date) -> dict:
        cursor = self.connection.cursor()
        cursor.execute(f"SELECT * FROM daily_kpis WHERE day = DATE '{day}'")
        rows = cursor.fetchall()
        assert len(rows) == 1, rows
        return dict(zip([c[0] for c in cursor.description], rows[0], strict=True))

    def snapshot(self) -> dict[str, list[tuple]]:
        return {t.name: sorted(self.query(f"SELECT * FROM {t.name}"), key=repr) for t in KPI_TABLES}


@pytest.fixture
def kpis(local_stack, tmp_path):
    with Scratch(local_stack, "kpis", make_topic=False) as scratch:
        run = KpiRun(local_stack, scratch, tmp_path)
        tables = EventTables(run.query, scratch.database, scratch.location)
        tables.create()
        tables.insert(*EVENTS)
        yield run, tables
        run.connection.close()


def _at(day: int, time: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-11-{day:02d} {time}")


def test_every_kpi_of_known_events_and_a_late_event_and_a_rerun_that_changes_nothing(kpis):
    run, tables = kpis
    run.compute("--from", "2026-11-01", "--to", "2026-11-03")
    run.compute("--day", "2026-11-08")

    nov1 = run.daily(NOV[1])
    assert {k: nov1[k] for k in ("dau", "wau", "mau", "new_players", "returning_players")} == {
        "dau": 2, "wau": 2, "mau": 2, "new_players": 2, "returning_players": 0,
    }  # fmt: skip
    assert nov1["stickiness"] == 1.0
    assert (nov1["revenue"], nov1["purchases"], nov1["paying_players"]) == (100, 1, 1)
    assert (nov1["arpdau"], nov1["arppu"], nov1["paying_share"]) == (50.0, 100.0, 0.5)
    assert (nov1["sessions"], nov1["avg_session_seconds"]) == (2, (1500 + 2700) / 2)
    assert run.query("SELECT player_id, session_start, session_end, length_seconds, events, purchases, spend "
                     "FROM sessions WHERE player_id = 'bob' AND session_date = DATE '2026-11-01'") == [
        ("bob", _at(1, "23:50"), _at(2, "00:35"), 2700.0, 3, 1, 50)
    ]  # fmt: skip
    assert run.daily(NOV[2])["dau"] == 4  # before the late event

    # Nov 3: activity and a purchase, no revenue.
    nov3 = run.daily(NOV[3])
    assert (nov3["dau"], nov3["purchases"], nov3["revenue"], nov3["paying_players"]) == (1, 1, 0, 0)
    assert (nov3["arpdau"], nov3["arppu"], nov3["paying_share"]) == (0.0, None, 0.0)

    # The late event, then the repair the docs prescribe: from its day onwards.
    tables.insert(LATE)
    run.compute("--from", "2026-11-02", "--to", "2026-11-03")
    run.compute("--day", "2026-11-08")

    nov2 = run.daily(NOV[2])
    assert {k: nov2[k] for k in ("dau", "wau", "mau", "new_players", "returning_players", "sessions")} == {
        "dau": 5, "wau": 5, "mau": 5, "new_players": 3, "returning_players": 2, "sessions": 5,
    }  # fmt: skip
    assert nov2["avg_session_seconds"] == (300 + 600 + 0 + 1800 + 0) / 5  # dan's 30-minute gap: one session
    assert (nov2["revenue"], nov2["purchases"], nov2["paying_players"], nov2["arppu"]) == (50, 2, 1, 50.0)
    assert (nov2["active_guilds"], nov2["joins"], nov2["leaves"]) == (2, 2, 1)
    assert run.daily(NOV[3])["wau"] == 6
    nov8 = run.daily(NOV[8])
    assert (nov8["dau"], nov8["wau"], nov8["mau"], nov8["new_players"]) == (1, 6, 6, 0)

    assert run.query("SELECT cohort_date, day_number, cohort_size, retained_players, activity_date FROM retention "
                     "ORDER BY activity_date, cohort_date") == [
        (NOV[1], 0, 2, 2, NOV[1]),
        (NOV[1], 1, 2, 2, NOV[2]), (NOV[2], 0, 3, 3, NOV[2]),
        (NOV[1], 2, 2, 0, NOV[3]), (NOV[2], 1, 3, 0, NOV[3]), (NOV[3], 0, 1, 1, NOV[3]),
        (NOV[1], 7, 2, 1, NOV[8]), (NOV[2], 6, 3, 0, NOV[8]), (NOV[3], 5, 1, 0, NOV[8]),
    ]  # fmt: skip
    assert run.query("SELECT player_id, step_number, reached_at FROM funnel_steps ORDER BY player_id, step_number") == [
        ("ann", 1, _at(1, "10:00")), ("ann", 2, _at(1, "10:10")), ("ann", 3, _at(1, "10:20")),
        ("ann", 4, _at(1, "10:25")),
        ("bob", 1, _at(1, "23:50")), ("bob", 2, _at(2, "00:35")),
        ("cat", 1, _at(2, "12:00")), ("cat", 2, _at(2, "12:10")), ("cat", 3, _at(2, "13:00")),
        ("dan", 1, _at(2, "08:00")),
        ("eve", 1, _at(3, "10:00")), ("eve", 2, _at(3, "10:01")),
        ("fay", 1, _at(2, "15:00")),
    ]  # fmt: skip
    assert run.query("SELECT guild_name, activity_date, joins, leaves, members_at_start, members_at_end, "
                     "membership_churn, wars_declared, wars_received FROM guild_days "
                     "ORDER BY activity_date, guild_name") == [
        ("bears", NOV[1], 0, 0, 0, 0, None, 0, 1), ("wolves", NOV[1], 1, 0, 0, 1, None, 1, 0),
        ("bears", NOV[2], 2, 0, 0, 2, None, 0, 0), ("wolves", NOV[2], 0, 1, 1, 0, 1.0, 0, 0),
    ]  # fmt: skip

    # The dashboard's live numbers of "today" (Nov 2) and its funnel agree with the tables.
    from questline_api.web.dashboard import collect

    snapshot = collect(run.connection, TRINO_CATALOG, run.database, dt.datetime(2026, 11, 2, 18, 0, tzinfo=dt.UTC))
    assert snapshot.today == {"day": "2026-11-02", "active_players": 5, "revenue": 50, "paying_players": 1}
    assert snapshot.charts["funnel"] == [
        {"label": "1 · first seen", "value": 6},
        {"label": "2 · first purchase", "value": 4},
        {"label": "3 · guild joined", "value": 2},
        {"label": "4 · war declared", "value": 1},
    ]

    before = run.snapshot()
    run.compute("--from", "2026-11-01", "--to", "2026-11-02")
    assert run.snapshot() == before


def test_a_simulated_30_days_land_on_30_days_and_every_kpi_equals_the_ground_truth(local_stack, tmp_path):
    run = Run(local_stack, tmp_path)
    try:
        plan = DaysPlan("sim30", dt.date(2026, 10, 1), days=30, new_players_per_day=10, seed=22)
        events, truth = simulate(plan)
        run.produce(*events)
        run.run_job("load-events-batch")
        assert run.query("SELECT count(*), count(DISTINCT event_date) FROM {db}.events") == [(len(events), 30)]
        run.run_job("compute-kpis", "--from", f"{plan.first_day}", "--to", f"{plan.last_day}", timeout=3600)

        columns = ("dau", "wau", "mau", "new_players", "sessions", "purchases", "revenue", "paying_players")
        rows = run.query(f"SELECT CAST(day AS varchar), {', '.join(columns)} FROM {{db}}.daily_kpis")
        assert {day: dict(zip(columns, values, strict=True)) for day, *values in rows} == truth["daily"]
        retained = run.query(
            "SELECT CAST(cohort_date AS varchar), day_number, cohort_size, retained_players FROM {db}.retention"
        )
        assert {f"{cohort}+{n}": back for cohort, n, _, back in retained} == truth["retention"]
        assert {cohort: size for cohort, _, size, _ in retained} == truth["cohort_sizes"]
        steps = run.query("SELECT step, count(*) FROM {db}.funnel_steps GROUP BY step")
        assert dict(steps) == truth["funnel"]
    finally:
        run.remove()
