"""The original game's GET routes through the real stack: each answer, and each row as Trino returns it.

Uses the demo's API and streaming job, started as the demo starts them but on a topic, a database
and a port of this module only (never those of a demo you may run), and stopped at the end.
"""

import os
import statistics
import time
import uuid

import httpx
import pytest
from rich.console import Console

from questline_analytics import queries
from questline_analytics import settings as analytics_settings
from questline_api.legacy import LEGACY_ACTIONS
from questline_demo import driver as demo
from questline_devkit import process
from questline_events import TRINO_PIPELINE_USER
from questline_stack.scratch import Scratch

pytestmark = [pytest.mark.stack, pytest.mark.timeout(900)]

PURCHASES = 1050


@pytest.fixture(scope="module")
def pipeline(local_stack):
    """(the API's URL, a Trino connection to the module's database)."""
    console = Console(stderr=True)
    with Scratch(local_stack, "legacyroutes") as scratch:
        env = {**local_stack.client_env(), **scratch.env}
        api_url = f"http://127.0.0.1:{process.free_port()}"
        api, stream = demo.demo_processes(scratch.database)
        try:
            demo.run_checked(
                [demo.console_script("create-tables")],
                {**env, **local_stack.trino_env(TRINO_PIPELINE_USER)},
                "create-tables",
            )
            demo.start_api(local_stack, console, api_url, env, api)
            demo.start_stream(local_stack, console, env, stream)
            conn = queries.connect(analytics_settings.load({**os.environ, **env, **local_stack.trino_env("report")}))
            demo.probe_pipeline(local_stack, console, conn, api_url, timeout=600, stream=stream)
            yield api_url, conn
        finally:
            process.stop(local_stack, stream)
            process.stop(local_stack, api)


def _rows_when_complete(conn, sql: str, params: list, expected: int, timeout: float = 300) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while True:
        _, rows = queries.fetch(conn, sql, params)
        if len(rows) >= expected or time.monotonic() > deadline:
            return rows
        time.sleep(2)


def test_each_original_route_answers_and_lands_as_the_original_logged_it(pipeline):
    api_url, conn = pipeline
    player = f"legacy{uuid.uuid4().hex[:12]}"
    headers = {"User-Agent": "ApacheBench/2.3", "Accept": "*/*"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        # The routes as the API defines them: test_api_legacy_routes.py holds them against issue
        # 21's table of the original game; this test follows each one to its row.
        for action in LEGACY_ACTIONS:
            response = client.get(action.path, params={"player_id": player})
            assert (response.status_code, response.headers["content-type"], response.text) == (
                200,
                "text/plain; charset=utf-8",
                action.answer,
            ), action.path
    rows = _rows_when_complete(
        conn,
        'SELECT event_type, description, source, host, "user-agent", accept FROM events WHERE player_id = ?',
        [player],
        expected=len(LEGACY_ACTIONS),
    )
    assert sorted(rows, key=lambda r: r[0]) == sorted(
        (
            (event_type, description, "legacy", api_url.removeprefix("http://"), "ApacheBench/2.3", "*/*")
            for event_type, description in ((a.event_type, a.description) for a in LEGACY_ACTIONS)
        ),
        key=lambda r: r[0],
    )


def test_legacy_purchase_strengths_in_the_table_have_the_original_distribution(pipeline):
    api_url, conn = pipeline
    player = f"strength{uuid.uuid4().hex[:12]}"
    paths = ("/purchase_a_sword", "/purchase_an_axe", "/purchase_a_shield")
    with httpx.Client(base_url=api_url, timeout=30) as client:
        for i in range(PURCHASES):
            assert client.get(paths[i % 3], params={"player_id": player}).status_code == 200
    rows = _rows_when_complete(conn, "SELECT strength FROM purchases WHERE player_id = ?", [player], expected=PURCHASES)
    strengths = [row[0] for row in rows]
    assert len(strengths) == PURCHASES
    # int(random.normalvariate(5, 4)) clipped to 0..10: mean ~4.6, ~16 % zeros, ~10 % tens.
    assert (min(strengths), max(strengths)) == (0, 10)
    assert 4.3 <= statistics.fmean(strengths) <= 4.9
