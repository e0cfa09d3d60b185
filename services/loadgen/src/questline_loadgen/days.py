"""Simulated days: players who arrive, play sessions, churn and come back over many days, on a
simulated clock, with the ground truth of every KPI of docs/analytics.md.

The day of an event is the UTC day of its server time (docs/analytics.md, "Which clock defines a
day"), so a run that covers 30 days in minutes must stamp its events as the API would have 30 days
long: `simulate` returns the events with those server timestamps, for a writer that puts them on
Kafka directly (the API stamps its own clock). What players do inside a session is the World's
(world.py); this module decides when: which days a player plays, how many sessions, when each
starts, the minutes between actions.

- arrival: `new_players_per_day` players are first seen on each day;
- return: on each later day a player plays with probability `RETURN_BASE * RETURN_DECAY ** age`
  (age in days since arrival): most churn within days, some come back after a pause;
- sessions: 1-3 per day played, at random hours, always more than the session gap after the
  previous one ended; some start late enough to end after midnight;
- actions inside a session: 1-12 minutes apart (under the gap), so each planned session is one
  session of the tables; pay: the World's prices (item weights, strength 1-1000, uniform).

The truth is computed from what was planned, not by running the tables' SQL in Python.
"""

import dataclasses
import datetime as dt
import random
from collections import defaultdict

from questline_events import derive_event_id, utc_timestamp
from questline_loadgen.world import World

RETURN_BASE = 0.55
RETURN_DECAY = 0.9
MAX_SESSIONS_PER_DAY = 3
ACTION_MINUTES = (1, 12)


@dataclasses.dataclass(frozen=True)
class DaysPlan:
    run_id: str
    first_day: dt.date
    days: int
    new_players_per_day: int
    seed: int = 1
    session_gap_minutes: int = 30

    @property
    def last_day(self) -> dt.date:
        return self.first_day + dt.timedelta(days=self.days - 1)


@dataclasses.dataclass
class _Played:
    """What one player did, as the truth needs it."""

    player_id: str
    events: list[tuple[dt.datetime, str, int]] = dataclasses.field(default_factory=list)  # (time, type, price)
    session_starts: list[dt.datetime] = dataclasses.field(default_factory=list)


def _event(run_id: str, player_id: str, key: str, event_type: str, payload: dict, at: dt.datetime, text: str) -> dict:
    return {
        "event_id": derive_event_id(player_id, key),
        "event_type": event_type,
        "schema_version": 1,
        "timestamp": utc_timestamp(at),
        "source": "v1",
        "player_id": player_id,
        "client_event_id": key,
        "client_time": None,
        "description": text,
        "request": {"host": f"{run_id}.sim", "user_agent": "questline_loadgen.days", "accept": "application/json"},
        "payload": payload,
    }


def simulate(plan: DaysPlan) -> tuple[list[dict], dict]:
    """(events in time order, ground truth): see the module docstring."""
    world = World(plan.run_id, plan.seed, plan.days * plan.new_players_per_day)
    gap = dt.timedelta(minutes=plan.session_gap_minutes)
    # The last sessions start by 21:00 and end that day (14 actions of at most 12 minutes: 2.8 h).
    end_of_run = dt.datetime.combine(plan.last_day, dt.time(21, 0), dt.UTC)
    timeline: list[tuple[dt.datetime, int, dict]] = []
    played: list[_Played] = []
    for player in world.players:
        arrival = plan.first_day + dt.timedelta(days=player.index // plan.new_players_per_day)
        rng = random.Random(f"{plan.seed}:days:{player.index}")
        record = _Played(player.player_id)
        played.append(record)
        free_from = dt.datetime.combine(arrival, dt.time(0, 0), dt.UTC)
        for age in range((plan.last_day - arrival).days + 1):
            day = arrival + dt.timedelta(days=age)
            if age and rng.random() >= RETURN_BASE * RETURN_DECAY**age:
                continue
            hours = sorted(rng.uniform(0, 24) for _ in range(rng.randint(1, MAX_SESSIONS_PER_DAY)))
            for hour in hours:
                start = max(dt.datetime.combine(day, dt.time(0, 0), dt.UTC) + dt.timedelta(hours=hour), free_from)
                if start > end_of_run:
                    break
                record.session_starts.append(start)
                at = start
                for n, action in enumerate(world.session(player, world.session_rng(player))):
                    if n:
                        at += dt.timedelta(minutes=rng.randint(*ACTION_MINUTES))
                    event = _event(
                        plan.run_id, player.player_id, action.key, action.event_type, action.payload, at,
                        action.description,
                    )  # fmt: skip
                    timeline.append((at, len(timeline), event))
                    record.events.append((at, action.event_type, action.spend))
                free_from = at + gap + dt.timedelta(minutes=1)
    timeline.sort(key=lambda item: item[:2])
    return [event for _, _, event in timeline], ground_truth(plan, played)


def ground_truth(plan: DaysPlan, played: list[_Played]) -> dict:
    """Every KPI the tables must show, per docs/analytics.md: daily, retention, funnel."""
    active: dict[dt.date, set[str]] = defaultdict(set)
    revenue: dict[dt.date, int] = defaultdict(int)
    purchases: dict[dt.date, int] = defaultdict(int)
    spend: dict[tuple[dt.date, str], int] = defaultdict(int)
    sessions: dict[dt.date, int] = defaultdict(int)
    first_seen: dict[str, dt.date] = {}
    funnel = [0, 0, 0, 0]
    for p in played:
        if not p.events:
            continue
        first_seen[p.player_id] = p.events[0][0].date()
        for start in p.session_starts:
            sessions[start.date()] += 1
        for at, event_type, price in p.events:
            day = at.date()
            active[day].add(p.player_id)
            if event_type.startswith("purchase_"):
                purchases[day] += 1
                revenue[day] += price
                spend[day, p.player_id] += price
        # Funnel steps in order: each at the first event of its kind at or after the previous one.
        wanted = (lambda t: t.startswith("purchase_"), lambda t: t == "join_guild", lambda t: t == "declare_war")
        funnel[0] += 1
        step = 0
        for _, event_type, _ in p.events:
            if step < 3 and wanted[step](event_type):
                step += 1
                funnel[step] += 1
    days = [plan.first_day + dt.timedelta(days=n) for n in range(plan.days)]

    def window(day: dt.date, length: int) -> int:
        return len(set().union(*(active[day - dt.timedelta(days=n)] for n in range(length))))

    cohorts: dict[dt.date, set[str]] = defaultdict(set)
    for player, day in first_seen.items():
        cohorts[day].add(player)
    daily = {}
    for day in days:
        payers = sum(1 for player in active[day] if spend[day, player] > 0)
        daily[day.isoformat()] = {
            "dau": len(active[day]),
            "wau": window(day, 7),
            "mau": window(day, 30),
            "new_players": len(cohorts[day]),
            "sessions": sessions[day],
            "purchases": purchases[day],
            "revenue": revenue[day],
            "paying_players": payers,
        }
    retention = {
        f"{cohort.isoformat()}+{(day - cohort).days}": len(members & active[day])
        for cohort, members in cohorts.items()
        for day in days
        if 0 <= (day - cohort).days <= 30
    }
    steps = ("first_seen", "first_purchase", "guild_joined", "war_declared")
    return {
        "run_id": plan.run_id,
        "first_day": plan.first_day.isoformat(),
        "days": plan.days,
        "daily": daily,
        "cohort_sizes": {day.isoformat(): len(members) for day, members in cohorts.items()},
        "retention": retention,
        "funnel": dict(zip(steps, funnel, strict=True)),
    }
