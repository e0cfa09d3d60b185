"""maintain-tables against the local stack: retention and the erasure of one player, the stream running.

Retention: partitions of days older than the kept number vanish (first from
queries, then with their files), every other partition keeps exactly its rows.
Erasure: after a request (an `erase_player` event, as DELETE /v1/players/{id}
produces it) and runs of which the first is killed, no file of any table holds a
row of that player, the audit has its row per table, and every other player's rows
are exactly as before (a checksum over all columns).
"""

import datetime as dt
import json
import time

import pytest
import requests
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from spark_events import make_event
from stack_jobs import Run, kill, wait_until
from stack_tables import COMPACTION_ENV, TABLES, fingerprint, running_stream

from questline_events import ERASE_PLAYER, utc_timestamp

pytestmark = [pytest.mark.stack, pytest.mark.timeout(2400)]

TODAY = dt.datetime.now(dt.UTC).date()
MAINTENANCE_ENV = {**COMPACTION_ENV, "QUESTLINE_RETENTION_DAYS": "3", "QUESTLINE_QUARANTINE_RETENTION_DAYS": "30"}
ERASED = "erase-me"


@pytest.fixture(scope="module")
def stream(local_stack, tmp_path_factory):
    with running_stream(local_stack, tmp_path_factory.mktemp("maintenance"), MAINTENANCE_ENV) as stream:
        yield stream


def _partitions(run: Run, table: str, column: str = "event_date") -> set[str]:
    return {row[0] for row in run.query(f'SELECT "{column}" FROM {{db}}."{table}$partitions"')}


def _exists_on_hdfs(stack, run: Run, path: str) -> bool:
    directory = run.env["QUESTLINE_WAREHOUSE_DIR"].split("://", 1)[1].split("/", 1)[1]
    url = f"http://{stack.host}:{stack.namenode_http_port}/webhdfs/v1/{directory}/{path}?op=GETFILESTATUS"
    return requests.get(url, timeout=30).status_code == 200


def test_retention_drops_exactly_the_expired_days_first_from_queries_then_with_their_files(stream, local_stack):
    days = {n: TODAY - dt.timedelta(days=n) for n in (1, 3, 4, 6)}  # kept: 1 and 3 (the boundary); expired: 4, 6
    stream.run.produce("junk")  # quarantine, received today: its own 30 days keep it
    for day in days.values():
        stream.feed(day, rounds=2)
    quarantined = stream.run.counts()["quarantine"]
    assert quarantined == 1
    before = {n: {t: fingerprint(stream.run, t, day) for t in TABLES} for n, day in days.items()}
    stream.run.run_job("maintain-tables", "--step", "retention")
    for n, day in days.items():
        rows = {t: fingerprint(stream.run, t, day) for t in TABLES}
        assert rows == before[n] if n <= 3 else all(r[0] == 0 for r in rows.values()), f"{n} days ago: {rows}"
    # Emptied, still registered (a job registering directories cannot bring the rows back), files still there.
    assert {str(days[4]), str(days[6])} <= _partitions(stream.run, "events")
    assert _exists_on_hdfs(local_stack, stream.run, f"events/event_date={days[6]}")
    time.sleep(11)  # past the grace period (0 s) + the lock timeout (10 s)
    stream.run.run_job("maintain-tables", "--step", "retention")
    for table in TABLES:
        assert _partitions(stream.run, table) & {str(d) for d in days.values()} == {str(days[1]), str(days[3])}
        assert not _exists_on_hdfs(local_stack, stream.run, f"{table}/event_date={days[4]}")
    for n in (1, 3):
        assert {t: fingerprint(stream.run, t, days[n]) for t in TABLES} == before[n]
    assert stream.run.counts()["quarantine"] == quarantined


# ------------------------------------------------------------------ erasure
def _player_events(day: dt.date, player: str, n: int) -> list[dict]:
    at = utc_timestamp(dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC))
    types = ["default", "purchase_sword", "join_guild", "declare_war"]
    return [make_event(types[i % len(types)], player_id=player, timestamp=at) for i in range(n)]


def _others(run: Run) -> dict[str, tuple]:
    """Every other player's rows, per table: count and a checksum over all columns."""
    found = {}
    for table in (*TABLES, "quarantine"):
        columns = ", ".join(f'"{row[0]}"' for row in run.query(f"SHOW COLUMNS FROM {{db}}.{table}"))
        player = "try(json_extract_scalar(raw_text, '$.player_id'))" if table == "quarantine" else "player_id"
        ((count, checksum),) = run.query(
            f"SELECT count(*), checksum(ROW({columns})) FROM {{db}}.{table} WHERE coalesce({player}, '') <> '{ERASED}'"
        )
        found[table] = (count, checksum)
    return found


def _erased_rows(run: Run) -> dict[str, int]:
    found = {}
    for table in (*TABLES, "quarantine"):
        player = "try(json_extract_scalar(raw_text, '$.player_id'))" if table == "quarantine" else "player_id"
        ((found[table],),) = run.query(f"SELECT count(*) FROM {{db}}.{table} WHERE {player} = '{ERASED}'")
    return found


def _rows_in_every_file(run: Run, spark: SparkSession) -> int:
    """Rows of the erased player in any Parquet file under the warehouse, hidden directories included."""
    jvm = spark.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(run.env["QUESTLINE_WAREHOUSE_DIR"])
    fs = root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    found = 0
    for table in (*TABLES, "quarantine"):
        listing = fs.listFiles(jvm.org.apache.hadoop.fs.Path(root, table), True)
        paths = []
        while listing.hasNext():
            path = listing.next().getPath().toString()
            if path.endswith(".parquet"):
                paths.append(path)
        frame = spark.read.parquet(*paths)
        player = F.get_json_object("raw_text", "$.player_id") if table == "quarantine" else F.col("player_id")
        found += frame.where(player == ERASED).count()
    return found


def test_erasure_killed_then_rerun_leaves_no_row_of_the_player_anywhere_and_an_audit_row(stream):
    run = stream.run
    # Closed days only: an open day is erased once it is over (docs/spark.md, "Erasure").
    for day in (TODAY - dt.timedelta(days=2), TODAY - dt.timedelta(days=1)):
        stream.feed(day, rounds=2)
        stream.feed_events(_player_events(day, ERASED, 8))
    # Quarantined, and its text names the player; received (Kafka time) yesterday, within the dedup watermark.
    bad = make_event("purchase_sword", player_id=ERASED, payload={"item": "sword", "strength": "strong"})
    quarantined = run.counts()["quarantine"]
    received = int((time.time() - 23 * 3600) * 1000)
    run.producer.produce(run.topic, value=json.dumps(bad).encode(), key=ERASED.encode(), timestamp=received)
    assert run.producer.flush(60) == 0
    wait_until(lambda: run.counts()["quarantine"] == quarantined + 1, 300, "the quarantined record", stream.job)
    before = _erased_rows(run)
    assert before["events"] == 16 and before["quarantine"] == 1
    others = _others(run)
    request = make_event(ERASE_PLAYER, player_id=ERASED, payload={"requested_by": "player"})
    run.produce(request)
    wait_until(lambda: run.query("SELECT count(*) FROM {db}.erasure_requests") == [(1,)], 120, "the request")

    first = run.job("maintain-tables", "--step", "erasure")
    wait_until(lambda: ": erased;" in first.log_path.read_text(), 600, "a first swap", first)
    kill(first)  # mid-erasure: some partitions rewritten, others perhaps not yet
    assert _others(run) == others
    audit, runs = [], 0
    while not audit and runs < 4:
        time.sleep(11)  # the killed run's locks and the rewritten partitions' grace period expire
        run.run_job("maintain-tables", "--step", "erasure", "--step", "compaction")
        runs += 1
        audit = run.query("SELECT table_name, rows_removed, requested_at, completed_at FROM {db}.erasure_audit")
    assert {table: rows for table, rows, *_ in audit} == before, f"after {runs} runs"
    assert all(requested <= completed for *_, requested, completed in audit)
    assert _erased_rows(run) == dict.fromkeys(before, 0)
    assert _others(run) == others
    spark = SparkSession.builder.master("local[1]").config("spark.ui.enabled", "false").getOrCreate()
    assert _rows_in_every_file(run, spark) == 0
    # A later event of the erased player lands in today's partition as usual (the stream is not held
    # back), and the next run leaves it there until the day is over.
    stream.feed_events(_player_events(TODAY, ERASED, 1))
    run.run_job("maintain-tables", "--step", "erasure")
    assert _erased_rows(run)["events"] == 1
    assert len(run.query("SELECT * FROM {db}.erasure_audit")) == len(audit)  # audited once
