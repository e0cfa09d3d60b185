"""The jobs against the local stack's real Kafka, HDFS, Hive metastore and Trino.

Each test has its own topic, database and HDFS directory (removed after it), and checks through Trino that every
table holds exactly the expected rows.
"""

import datetime as dt
import re

import pytest
from spark_events import PAYLOADS, make_event
from stack_jobs import Run, kill, wait_until

from questline_events import EVENT_FAMILIES

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1800)]

MALFORMED = {
    "too_large": "x" * 70_000,
    "not_json": "{this is not json",
    "unknown_event_type": make_event(event_type="summon_dragon"),
    "schema_violation": make_event(payload={"item": "sword", "strength": "very strong"}),
}


@pytest.fixture
def run(local_stack, tmp_path_factory):
    run = Run(local_stack, tmp_path_factory.mktemp("spark-jobs"))
    yield run
    run.remove()


def _events(n: int) -> list[dict]:
    types = list(PAYLOADS)
    return [make_event(types[i % len(types)], player_id=f"p{i}") for i in range(n)]


def _expected(events: list[dict], quarantined: int) -> dict[str, int]:
    families = {f: sum(e["event_type"] in types for e in events) for f, types in EVENT_FAMILIES.items()}
    return {"events": len(events), **families, "quarantine": quarantined}


def _no_repeated_event_id(run: Run) -> bool:
    ((total, distinct),) = run.query("SELECT count(*), count(DISTINCT event_id) FROM {db}.events")
    return total == distinct


def _dedup_log_totals(job) -> tuple[int, int]:
    """(new ids, repeats dropped), summed over the job's progress log lines."""
    lines = re.findall(r"dedup: (\d+) new ids, (\d+) repeats dropped", job.log_path.read_text(errors="replace"))
    return sum(int(new) for new, _ in lines), sum(int(dropped) for _, dropped in lines)


def test_stream_lands_every_event_once_through_a_sigkill_and_restart(run):
    first = _events(300)
    retried = {**first[0], "description": "client retry, same event_id"}
    run.produce(*first, retried, *MALFORMED.values())  # the retry lands in the same micro-batch
    stream = run.job("stream-events-to-hdfs")
    expected = _expected(first, len(MALFORMED))
    wait_until(lambda: run.counts() == expected, 600, f"first events {expected}", alive=stream)
    # Every record is a new dedup key (quarantined ones by their Kafka coordinates) but the retry.
    logged = (len(first) + len(MALFORMED), 1)
    wait_until(lambda: _dedup_log_totals(stream) == logged, 60, f"progress lines adding up to {logged}", alive=stream)

    second = _events(5000)
    run.produce({**first[1], "description": "retry in a later micro-batch"}, *second)
    # Kill while the second lot is being written: some of it is visible, not all.
    wait_until(lambda: run.counts().get("events", 0) > len(first), 300, "second lot to start", alive=stream)
    kill(stream)

    third = _events(200)
    run.produce(*third)
    stream = run.job("stream-events-to-hdfs")
    expected = _expected(first + second + third, len(MALFORMED))
    try:
        wait_until(lambda: run.counts() == expected, 600, f"all events {expected}", alive=stream)
        assert _no_repeated_event_id(run)
        reasons = dict(run.query("SELECT reason, count(*) FROM {db}.quarantine GROUP BY reason"))
        assert reasons == dict.fromkeys(MALFORMED, 1)
        assert stream.poll() is None, "a bad record stopped the stream"
    finally:
        kill(stream)

    # The batch job over the same topic adds nothing and removes nothing the stream wrote.
    run.run_job("load-events-batch")
    assert run.counts() == expected


def test_batch_job_run_twice_gives_the_same_exact_counts(run):
    events = _events(500)
    run.produce(*events, {**events[3], "description": "retry"}, *MALFORMED.values())
    run.run_job("load-events-batch")
    expected = _expected(events, len(MALFORMED))
    assert run.counts() == expected
    run.run_job("load-events-batch")
    assert run.counts() == expected
    assert _no_repeated_event_id(run)
    event_id = events[1]["event_id"]
    legacy = run.query(
        'SELECT host, "user-agent", accept, event_type, description, strength, "timestamp" '
        f"FROM {{db}}.purchases WHERE event_id = '{event_id}'"
    )
    stamp = dt.datetime(2026, 11, 27, 23, 59, 58, 123000)  # Trino reads milliseconds by default
    assert legacy == [
        ("questline.localtest.me", "curl/8", "*/*", "purchase_sword", events[1]["description"], 42, stamp)
    ]


def test_a_new_stream_after_the_batch_job_adds_only_what_the_batch_job_did_not_load(run):
    loaded = _events(300)
    run.produce(*loaded, *MALFORMED.values())
    run.run_job("load-events-batch")
    assert run.counts() == _expected(loaded, len(MALFORMED))

    later = _events(100)
    # A late retry of an event the batch job loaded: the stream must still drop it.
    run.produce(*later, {**loaded[7], "description": "late retry"})
    stream = run.job("stream-events-to-hdfs")  # new checkpoint: reads from earliest
    expected = _expected(loaded + later, len(MALFORMED))
    try:
        wait_until(lambda: run.counts() == expected, 600, f"the later events {expected}", alive=stream)
        run.produce(*(extra := _events(50)))
        expected = _expected(loaded + later + extra, len(MALFORMED))
        wait_until(lambda: run.counts() == expected, 300, f"the extra events {expected}", alive=stream)
        assert _no_repeated_event_id(run)
    finally:
        kill(stream)


def test_table_job_is_idempotent_and_registers_partitions_already_on_hdfs(run):
    run.run_job("create-tables")
    run.run_job("create-tables")
    assert run.counts() == dict.fromkeys(("events", "visits", "purchases", "joins", "declarations", "quarantine"), 0)
