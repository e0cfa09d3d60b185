"""compact-tables against the local stack, with the streaming job running throughout.

The stream lands events of past days (closed partitions, many small files: one
per table, date and task per trigger) and of today; compaction runs, is killed,
runs twice at once. Through Trino every closed partition keeps exactly its rows
(count, distinct keys, a checksum over all columns), before, during and after.
"""

import datetime as dt
import random
import threading
import time

import pytest
import requests
from stack_jobs import Run, kill, wait_until
from stack_tables import COMPACTION_ENV, TABLES, day_events, files, fingerprint, fingerprints, running_stream

from questline_events import TRINO_CATALOG

pytestmark = [pytest.mark.stack, pytest.mark.timeout(2400)]


class Watcher(threading.Thread):
    """Counts one partition of `events` over and over while compaction runs: any other count is a failure."""

    def __init__(self, run: Run, day: dt.date):
        super().__init__(daemon=True)
        self.trino = run.stack.trino_connect("analyst", catalog=TRINO_CATALOG)  # it only reads
        self.sql = (
            f"SELECT count(*), count(DISTINCT event_id) FROM \"{run.database}\".events WHERE event_date = '{day}'"
        )
        self.seen: list[tuple] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            cursor = self.trino.cursor()
            cursor.execute(self.sql)
            self.seen.append(tuple(cursor.fetchone()))
            cursor.close()


@pytest.fixture(scope="module")
def stream(local_stack, tmp_path_factory):
    with running_stream(local_stack, tmp_path_factory.mktemp("compaction"), COMPACTION_ENV) as stream:
        yield stream


def _compact(run: Run, *args: str):
    return run.job("compact-tables", *args)


def _assert_compacted(run: Run, day: dt.date, before: dict[str, tuple]) -> None:
    assert fingerprints(run, day) == before
    for table in TABLES:
        assert files(run, table, day) <= 1, f"{table} {day} still has {files(run, table, day)} files"


def test_compaction_leaves_one_file_per_partition_with_the_same_rows_while_the_stream_runs(stream):
    day = dt.date(2026, 11, 27)
    stream.feed(day, rounds=20)
    before = fingerprints(stream.run, day)
    assert files(stream.run, "events", day) >= 10
    watcher = Watcher(stream.run, day)
    watcher.start()
    compaction = _compact(stream.run)
    today = dt.datetime.now(dt.UTC).date()
    while compaction.poll() is None:  # the stream keeps landing today's events meanwhile
        stream.run.produce(*day_events(today, 5, f"today-{time.monotonic_ns()}"))
        stream.sent += 5
        time.sleep(1)
    watcher.stop.set()
    watcher.join()
    assert compaction.returncode == 0, compaction.log_path.read_text()
    assert ": compacted;" in compaction.log_path.read_text()
    _assert_compacted(stream.run, day, before)
    assert set(watcher.seen) == {before["events"][:2]}, f"{len(watcher.seen)} counts during the swap"
    wait_until(lambda: stream.run.counts().get("events") == stream.sent, 120, "today's events", stream.job)


def test_compaction_killed_at_random_points_then_rerun_keeps_every_row_exactly_once(stream):
    day = dt.date(2026, 11, 26)
    stream.feed(day, rounds=12)
    before = fingerprints(stream.run, day)
    for delay in random.Random(19).sample(range(4, 40), 4):
        compaction = _compact(stream.run, "--table", "events", "--table", "purchases")
        time.sleep(delay)
        kill(compaction)
        assert fingerprints(stream.run, day) == before, f"after a kill at {delay} s"
    time.sleep(11)  # the lock timeout: the killed runs' locks are stale now
    stream.run.run_job("compact-tables")
    _assert_compacted(stream.run, day, before)


def test_two_compactions_at_once_give_the_result_of_one(stream):
    day = dt.date(2026, 11, 25)
    stream.feed(day, rounds=12)
    before = fingerprints(stream.run, day)
    first, second = _compact(stream.run), _compact(stream.run)
    assert first.wait(900) == 0 and second.wait(900) == 0
    _assert_compacted(stream.run, day, before)


def test_a_late_event_of_a_compacted_day_is_visible_once_after_the_next_run(stream):
    day = dt.date(2026, 11, 25)  # compacted by the test before
    before = fingerprint(stream.run, "events", day)
    marker_day = dt.datetime.now(dt.UTC).date()
    stream.run.produce(*day_events(day, 3, f"late-{time.monotonic_ns()}"), *day_events(marker_day, 1, "marker"))
    stream.sent += 4
    # The late rows land in the canonical directory, which is no longer the partition's location.
    wait_until(lambda: stream.run.counts().get("events") >= stream.sent - 3, 120, "the late batch", stream.job)
    time.sleep(4)  # older than the quiet period
    stream.run.run_job("compact-tables", "--table", "events")
    after = fingerprint(stream.run, "events", day)
    assert after[:2] == (before[0] + 3, before[1] + 3)
    assert stream.run.counts().get("events") == stream.sent


def _generations(run: Run, table: str, day: dt.date) -> list[str]:
    """The `_compacted-*` directories of a partition, through WebHDFS."""
    stack = run.scratch.stack
    directory = run.env["QUESTLINE_WAREHOUSE_DIR"].split("://", 1)[1].split("/", 1)[1]
    url = (
        f"http://{stack.host}:{stack.namenode_http_port}/webhdfs/v1/{directory}/{table}/event_date={day}?op=LISTSTATUS"
    )
    statuses = requests.get(url, timeout=30).json()["FileStatuses"]["FileStatus"]
    return sorted(s["pathSuffix"] for s in statuses if s["pathSuffix"].startswith("_compacted-"))


def _killed_at(run: Run, stage: str | None, delay: float = 0.0) -> str:
    """Start a compaction of `events`, kill it paused before `stage` (or `delay` s into its Spark write)."""
    if stage:
        run.env["QUESTLINE_COMPACT_PAUSE_BEFORE"] = stage
    try:
        compaction = _compact(run, "--table", "events")
    finally:
        run.env.pop("QUESTLINE_COMPACT_PAUSE_BEFORE", None)
    marker = f"paused before {stage}" if stage else ": rewriting "
    wait_until(lambda: marker in compaction.log_path.read_text(), 600, marker, compaction)
    time.sleep(delay)
    kill(compaction)
    return compaction.log_path.read_text()


def test_compaction_killed_before_during_and_after_the_swap_then_rerun_keeps_every_row_once(stream):
    run = stream.run
    day = dt.date(2026, 11, 24)
    stream.feed(day, rounds=12)
    before = fingerprint(run, "events", day)
    # Before the swap, three ways (nothing written / output in staging / a whole generation), then after it.
    for stage in ("write", "generation", "swap", "release"):
        log = _killed_at(run, stage)
        assert fingerprint(run, "events", day) == before, f"after a kill before {stage}"
        assert (": swapped to " in log) == (stage == "release")
        time.sleep(11)  # the lock timeout: the killed run's lock is stale now
    assert files(run, "events", day) == 1  # the swap of the last killed run stands
    run.run_job("compact-tables", "--table", "events")
    assert fingerprint(run, "events", day) == before
    assert len(_generations(run, "events", day)) == 1  # the orphans of the killed runs are gone
    # During the Spark write, at random points.
    day = dt.date(2026, 11, 23)
    stream.feed(day, rounds=12)
    before = fingerprint(run, "events", day)
    for delay in random.Random(1901).sample([0.5, 1.0, 2.0, 3.0, 5.0], 2):
        _killed_at(run, None, delay)
        assert fingerprint(run, "events", day) == before, f"after a kill {delay} s into the write"
        time.sleep(11)
    run.run_job("compact-tables", "--table", "events")
    assert fingerprint(run, "events", day) == before
    assert files(run, "events", day) == 1
