"""What the maintenance tests share: the streaming job fed in rounds, fingerprints of partitions."""

import contextlib
import datetime as dt
import time
from pathlib import Path

from spark_events import PAYLOADS, make_event
from stack_jobs import Run, kill, wait_until

from questline_events import utc_timestamp

TABLES = ("events", "visits", "purchases", "joins", "declarations")
COMPACTION_ENV = {
    "QUESTLINE_COMPACT_MIN_FILES": "4",
    "QUESTLINE_COMPACT_QUIET_SECONDS": "3",
    "QUESTLINE_COMPACT_LOCK_TIMEOUT_SECONDS": "10",
    "QUESTLINE_COMPACT_KEEP_REPLACED_SECONDS": "0",
}


def day_events(day: dt.date, n: int, tag: str) -> list[dict]:
    at = utc_timestamp(dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC))
    types = list(PAYLOADS)
    return [make_event(types[i % len(types)], player_id=f"{tag}-p{i}", timestamp=at) for i in range(n)]


class Stream:
    """The streaming job of one run, fed in small rounds so that every round is a trigger."""

    def __init__(self, run: Run):
        self.run = run
        self.job = run.job("stream-events-to-hdfs")
        self.sent = 0

    def feed(self, day: dt.date, rounds: int, per_round: int = 8) -> None:
        """Each round waits until the one before is visible: one micro-batch (and file) per round."""
        for r in range(rounds):
            self.feed_events(day_events(day, per_round, f"{day}-{r}-{time.monotonic_ns()}"), f"round {r}")

    def feed_events(self, events: list[dict], what: str = "a round") -> None:
        """Produce `events` and wait until `events` holds that many more rows (whatever it held before)."""
        expected = self.run.counts().get("events", 0) + len(events)
        self.run.produce(*events)
        self.sent += len(events)
        wait_until(lambda: self.run.counts().get("events") == expected, 300, what, self.job)


@contextlib.contextmanager
def running_stream(stack, logs: Path, env: dict[str, str]):
    """A Run on a Scratch of its own (topic, database, warehouse: never the user's tables) with
    `env` and its streaming job; the job killed and the names removed afterwards."""
    run = Run(stack, logs)
    run.env.update(env)
    stream = Stream(run)
    try:
        yield stream
    finally:
        kill(stream.job)
        run.remove()


def _columns(run: Run, table: str) -> list[str]:
    return [row[0] for row in run.query(f"SHOW COLUMNS FROM {{db}}.{table}")]


def fingerprint(run: Run, table: str, day: dt.date) -> tuple:
    columns = ", ".join(f'"{c}"' for c in _columns(run, table))
    (row,) = run.query(
        f"SELECT count(*), count(DISTINCT event_id), checksum(ROW({columns})) FROM {{db}}.{table} "
        f"WHERE event_date = '{day}'"
    )
    return row


def files(run: Run, table: str, day: dt.date) -> int:
    ((n,),) = run.query(f"SELECT count(DISTINCT \"$path\") FROM {{db}}.{table} WHERE event_date = '{day}'")
    return n


def fingerprints(run: Run, day: dt.date) -> dict[str, tuple]:
    return {t: fingerprint(run, t, day) for t in TABLES}
