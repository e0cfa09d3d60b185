"""A non-default topic and database reach every component on the local stack, each told
by the one variable every settings module reads (QUESTLINE_EVENTS_TOPIC,
QUESTLINE_DATABASE): events posted to the API land in that topic only, the streaming job
writes them into that database, and the dashboard and the report read them from there.
The default topic and the `questline` tables are left as they were; the run's topic,
tables, schema and HDFS directory (the `scratch` fixture) are removed at the end."""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
import trino

from questline_events import DATABASE, TOPIC_EVENTS, TRINO_CATALOG, TRINO_PIPELINE_USER
from questline_stack.scratch import end_offsets, records_between

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "services" / "game-api" / "tests"))
from api_stack import Gunicorn  # noqa: E402

pytestmark = [pytest.mark.stack, pytest.mark.timeout(1200)]

BIN = Path(sys.executable).parent
POSTS = 3
CATCH_UP_SECONDS = 600


def _trino(stack, schema: str) -> trino.dbapi.Connection:
    return stack.trino_connect("analyst", catalog=TRINO_CATALOG, schema=schema)


def _count(conn: trino.dbapi.Connection, table: str, player_id: str) -> int:
    cursor = conn.cursor()
    try:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE player_id = ?", [player_id])
        return cursor.fetchall()[0][0]
    except trino.exceptions.TrinoUserError:
        return 0  # the table does not exist (yet)
    finally:
        cursor.close()


@contextlib.contextmanager
def streaming_job(local_stack, scratch, log_path: Path):
    env = {
        **os.environ,
        **local_stack.client_env(),
        **local_stack.trino_env(TRINO_PIPELINE_USER),
        **scratch.env,
        "QUESTLINE_STREAM_STARTING_OFFSETS": "earliest",
        "QUESTLINE_STREAM_TRIGGER_SECONDS": "2",
        "QUESTLINE_SPARK_DRIVER_MEMORY": "768m",
    }
    with open(log_path, "wb") as log:
        # Own process group: the Python driver and its JVM stop together.
        process = subprocess.Popen(
            [BIN / "stream-events-to-hdfs"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(30)


def test_a_topic_and_database_of_their_own_reach_the_api_spark_the_dashboard_and_the_report(
    local_stack, scratch, tmp_path
):
    from questline_analytics import queries
    from questline_analytics import settings as analytics_settings

    names = {"QUESTLINE_EVENTS_TOPIC": scratch.topic, "QUESTLINE_DATABASE": scratch.database}
    bootstrap, database = local_stack.kafka_bootstrap, names["QUESTLINE_DATABASE"]
    player = f"names-{uuid.uuid4().hex[:12]}"
    default_offsets = end_offsets(local_stack, TOPIC_EVENTS)
    api = Gunicorn(
        bootstrap,
        tmp_path / "gunicorn.log",
        workers=1,
        **local_stack.trino_env("dashboard"),
        **local_stack.kafka_env("api"),
        QUESTLINE_API_DASHBOARD_CACHE_SECONDS="1",
        **names,
    ).start()
    try:
        with streaming_job(local_stack, scratch, tmp_path / "stream.log") as stream:
            for _ in range(POSTS):
                answer = httpx.post(
                    f"{api.url}/v1/players/{player}/purchases",
                    json={"item": "sword", "strength": 3},
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                    timeout=30,
                )
                assert answer.status_code == 202, answer.text
            assert sum(end_offsets(local_stack, names["QUESTLINE_EVENTS_TOPIC"]).values()) == POSTS

            with contextlib.closing(_trino(local_stack, database)) as conn:
                deadline = time.monotonic() + CATCH_UP_SECONDS
                while _count(conn, "purchases", player) < POSTS:
                    assert stream.poll() is None, f"the streaming job exited; log {tmp_path / 'stream.log'}"
                    assert time.monotonic() < deadline, f"no {POSTS} purchases in {database} after {CATCH_UP_SECONDS}s"
                    time.sleep(2)
                assert _count(conn, "events", player) == POSTS

        # The dashboard reads the run's database, by the variable the streaming job read.
        data = httpx.get(f"{api.url}/dashboard/data.json", timeout=60).json()  # Trino under load
        assert (data["catalog"], data["schema"]) == (TRINO_CATALOG, database)
        assert {t["name"]: t["rows"] for t in data["tables"]}["purchases"] >= POSTS
    finally:
        api.stop()

    # The report reads it too, by the same variable.
    report = analytics_settings.load({**local_stack.trino_env("report"), **names})
    assert report.schema == database
    with contextlib.closing(queries.connect(report)) as conn:
        assert _count(conn, "purchases", player) == POSTS

    # None of the run's events went to the default topic (others may write to it meanwhile) or tables.
    written = [
        value
        for _key, value in records_between(
            local_stack, TOPIC_EVENTS, default_offsets, end_offsets(local_stack, TOPIC_EVENTS)
        )
    ]
    assert not [v for v in written if player.encode() in v]
    with contextlib.closing(_trino(local_stack, DATABASE)) as conn:
        assert _count(conn, "events", player) == 0
