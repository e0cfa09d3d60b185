"""The simulated days (questline_loadgen.days) without servers: valid events on exactly the planned
days, the same run for the same seed, and a truth that agrees with the events it describes."""

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from questline_events import validate_event
from questline_loadgen.days import DaysPlan, simulate

PLAN = DaysPlan("simtest", dt.date(2026, 10, 1), days=10, new_players_per_day=4, seed=3)


@pytest.fixture(scope="module")
def simulated():
    return simulate(PLAN)


def _times(events: list[dict]) -> dict[str, list[dt.datetime]]:
    by_player = defaultdict(list)
    for event in events:
        by_player[event["player_id"]].append(dt.datetime.fromisoformat(event["timestamp"]))
    return by_player


def test_every_event_is_valid_and_the_days_are_exactly_the_planned_ones(simulated):
    events, truth = simulated
    for event in events:
        validate_event(event)
    days = {event["timestamp"][:10] for event in events}
    assert days == set(truth["daily"]) == {f"2026-10-{n:02d}" for n in range(1, 11)}
    assert len({event["event_id"] for event in events}) == len(events)


def test_the_same_seed_gives_the_same_run():
    assert simulate(PLAN) == simulate(PLAN)


def test_sessions_are_cut_by_the_gap_exactly_where_the_truth_counts_them(simulated):
    events, truth = simulated
    gap = dt.timedelta(minutes=PLAN.session_gap_minutes)
    starts = defaultdict(int)
    for times in _times(events).values():
        starts[times[0].date().isoformat()] += 1
        for before, after in itertools.pairwise(times):
            if after - before > gap:
                starts[after.date().isoformat()] += 1
    assert dict(starts) == {day: kpis["sessions"] for day, kpis in truth["daily"].items() if kpis["sessions"]}


def test_players_churn_and_come_back(simulated):
    events, truth = simulated
    days_played = [{t.date() for t in times} for times in _times(events).values()]
    assert any(len(days) == 1 for days in days_played), "nobody churned after the first day"
    assert any(max(days) - min(days) > dt.timedelta(days=len(days)) for days in days_played), "nobody paused"
    assert truth["daily"]["2026-10-01"]["new_players"] == 4
    assert sum(size for size in truth["cohort_sizes"].values()) == truth["funnel"]["first_seen"] == 40
