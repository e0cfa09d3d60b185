"""Check a simulator run's ground truth against the tables, through Trino.

The run's rows are the ones whose player_id starts with its prefix (every
simulated player id does), so earlier runs in the same tables never count.
The check passes when every acknowledged event_id is in `events` exactly once,
nothing else of the run is there (an event whose outcome the simulator could
not learn may be there, at most once), and each family table holds as many of
the run's events as `events` says it should.
"""

import dataclasses
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from questline_analytics.queries import fetch
from questline_events import EVENT_FAMILIES, family_of

_EVENT_COPIES = "SELECT event_id, count(*) FROM events WHERE player_id LIKE ? GROUP BY event_id"
_FAMILY_ROWS = " UNION ALL ".join(
    f"SELECT '{family}', count(*), count(DISTINCT event_id) FROM {family} WHERE player_id LIKE ?"
    for family in EVENT_FAMILIES
)


@dataclasses.dataclass
class Accounting:
    run_id: str
    acknowledged: int
    in_tables: int  # the run's rows in `events`
    missing: list[str]
    duplicated: dict[str, int]  # event_id -> rows, for every event_id on more than one row
    unexpected: list[str]  # the run's event_ids the simulator never sent or saw refused
    unknown_landed: int  # events of unknown outcome that are in the tables (allowed once)
    family_mismatches: dict[str, dict[str, int]]

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.unexpected or self.family_mismatches)

    def line(self) -> str:
        return (
            f"{self.acknowledged:,} events acknowledged, {self.in_tables:,} in tables, "
            f"{len(self.missing):,} missing, {len(self.duplicated):,} duplicated"
        )

    def problems(self) -> list[str]:
        out = []
        if self.missing:
            out.append(f"{len(self.missing):,} acknowledged event(s) missing, e.g. {', '.join(self.missing[:3])}")
        if self.duplicated:
            sample = ", ".join(f"{k} x{v}" for k, v in list(self.duplicated.items())[:3])
            out.append(f"{len(self.duplicated):,} event_id(s) on more than one row, e.g. {sample}")
        if self.unexpected:
            out.append(f"{len(self.unexpected):,} row(s) of this run that were never acknowledged or sent")
        for family, c in self.family_mismatches.items():
            out.append(f"table {family}: {c['rows']:,} rows ({c['distinct']:,} distinct), expected {c['expected']:,}")
        return out


def account(conn, truth: dict[str, Any]) -> Accounting:
    """Compare one ground-truth document (questline_loadgen's JSON) with the tables."""
    pattern = truth["player_id_prefix"] + "%"
    _, rows = fetch(conn, _EVENT_COPIES, [pattern])
    copies = {event_id: n for event_id, n in rows}
    acknowledged = truth["acknowledged_event_ids"]
    unknown = set(truth["unknown_event_ids"])
    expected_ids = set(acknowledged)
    missing = [e for e in acknowledged if e not in copies]
    duplicated = {e: n for e, n in copies.items() if n > 1}
    unexpected = sorted(set(copies) - expected_ids - unknown)
    landed_unknown = [e for e in unknown if e in copies]

    # Each family table must hold the run's events of that family, once each.
    _, family_rows = fetch(conn, _FAMILY_ROWS, [pattern] * len(EVENT_FAMILIES))
    expected_by_family: Counter[str] = Counter()
    for event_type, counts in truth["by_event_type"].items():
        expected_by_family[family_of(event_type)] += counts["acknowledged"]
    mismatches = {}
    slack = len(landed_unknown)  # unknown-outcome events that landed belong to some family
    for family, n, distinct in family_rows:
        expected = expected_by_family[family]
        if n != distinct or not expected <= n <= expected + slack:
            mismatches[family] = {"rows": n, "distinct": distinct, "expected": expected}
    return Accounting(
        run_id=truth["run_id"],
        acknowledged=len(acknowledged),
        in_tables=sum(copies.values()),
        missing=missing,
        duplicated=duplicated,
        unexpected=unexpected,
        unknown_landed=len(landed_unknown),
        family_mismatches=mismatches,
    )


def wait_until_caught_up(
    conn,
    truth: dict[str, Any],
    timeout: float,
    on_poll: Callable[[Accounting, float], None] | None = None,
    interval: float = 2.0,
) -> Accounting:
    """Poll until the tables account for the whole run, or the timeout; return the last accounting."""
    started = time.monotonic()
    while True:
        result = account(conn, truth)
        if on_poll:
            on_poll(result, time.monotonic() - started)
        # Missing rows may still be on their way; duplicates and strangers never go away.
        if result.ok or result.duplicated or result.unexpected or time.monotonic() - started > timeout:
            return result
        time.sleep(interval)
