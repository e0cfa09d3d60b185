"""The web pages (/play, /dashboard) and the dashboard's per-worker cache, without a browser.

tests/browser drives the same pages in Chromium against the real stack; these
check what the server sends and how often it would ask Trino.
"""

import datetime as dt
import re
import threading

import pytest

from questline_api.app import create_app
from questline_api.settings import SettingsError, load
from questline_api.web.dashboard import DashboardData, Snapshot
from questline_devkit.process import free_port

KAFKA = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _refusing_connector(calls: list):
    def connect(settings):
        calls.append(settings.trino_url)
        raise ConnectionRefusedError(111, "Connection refused")

    return connect


@pytest.mark.parametrize(("path", "script"), [("/play", "play.js"), ("/dashboard", "dashboard.js")])
def test_pages_load_their_script_from_the_api_and_run_no_inline_script(client, path, script):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert f'<script src="/web/static/{script}" defer></script>' in response.text
    assert not re.search(r"<script(?![^>]*\bsrc=)", response.text)
    assert " style=" not in response.text
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy


def test_play_page_tells_its_script_where_the_v1_api_is(client):
    assert 'data-api-base="/v1"' in client.get("/play").text


@pytest.mark.parametrize(
    ("asset", "mimetype"),
    [("play.js", "text/javascript"), ("dashboard.js", "text/javascript"), ("questline.css", "text/css")],
)
def test_static_assets_are_served(client, asset, mimetype):
    response = client.get(f"/web/static/{asset}")
    assert response.status_code == 200
    assert response.mimetype == mimetype


def test_dashboard_data_without_a_trino_url_says_so_and_is_not_an_error(client):
    response = client.get("/dashboard/data.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json["status"] == "not_configured"
    assert "QUESTLINE_TRINO_URL is not set" in response.json["message"]


def test_dashboard_data_with_trino_down_says_unreachable_and_why(producer):
    trino_url = f"http://127.0.0.1:{free_port()}"
    app = create_app(load({**KAFKA, "QUESTLINE_TRINO_URL": trino_url}), producer=producer)
    body = app.test_client().get("/dashboard/data.json").json
    assert body["status"] == "unreachable"
    assert body["message"] == f"Trino at {trino_url} did not answer: [Errno 111] Connection refused"
    assert [t["present"] for t in body["tables"]] == [False] * len(body["tables"])


def test_trino_is_asked_once_per_cache_period_whatever_the_number_of_requests():
    calls, clock = [], Clock()
    settings = load({**KAFKA, "QUESTLINE_TRINO_URL": "http://trino:8080", "QUESTLINE_API_DASHBOARD_CACHE_SECONDS": "5"})
    data = DashboardData(settings, _refusing_connector(calls), clock)
    for _ in range(50):
        assert data.snapshot().status == "unreachable"
    assert len(calls) == 1
    clock.now += 4.9
    data.snapshot()
    assert len(calls) == 1
    clock.now += 0.2
    data.snapshot()
    assert len(calls) == 2


def test_a_request_during_a_refresh_gets_the_previous_snapshot_instead_of_waiting():
    clock, entered, release = Clock(), threading.Event(), threading.Event()
    settings = load({**KAFKA, "QUESTLINE_TRINO_URL": "http://trino:8080"})

    def slow_connector(settings):
        entered.set()
        release.wait(10)
        raise ConnectionRefusedError(111, "Connection refused")

    data = DashboardData(settings, _refusing_connector([]), clock)
    previous = data.snapshot()
    data._connector = slow_connector
    clock.now += settings.dashboard_cache_seconds + 1
    refresher = threading.Thread(target=data.snapshot)
    refresher.start()
    assert entered.wait(10)
    assert data.snapshot() is previous
    release.set()
    refresher.join(10)
    assert data.snapshot() is not previous


def test_ages_are_computed_when_served_not_when_the_snapshot_was_taken():
    taken = dt.datetime(2026, 11, 27, 12, 0, 0, tzinfo=dt.UTC)
    newest = taken - dt.timedelta(seconds=30)
    snapshot = Snapshot("ok", None, taken, tables={"events": {"present": True, "rows": 7, "newest": newest}})
    body = snapshot.to_json(taken + dt.timedelta(seconds=4), load(KAFKA))
    assert body["newest_row"] == "2026-11-27T11:59:30Z"
    assert body["newest_row_age_seconds"] == 34.0
    assert body["snapshot_age_seconds"] == 4.0
    events = next(t for t in body["tables"] if t["name"] == "events")
    assert (events["rows"], events["age_seconds"]) == (7, 34.0)


@pytest.mark.parametrize("url", ["trino:8080", "ftp://trino:21", "http://"])
def test_a_trino_url_that_is_not_http_is_refused_by_name(url):
    with pytest.raises(SettingsError, match=r"QUESTLINE_TRINO_URL=.*expected http://host:port"):
        load({**KAFKA, "QUESTLINE_TRINO_URL": url})


def test_the_dashboard_reads_the_database_the_spark_jobs_are_told_to_write(client, producer):
    assert "<code>hive.questline</code>" in client.get("/dashboard").text
    app = create_app(load({**KAFKA, "QUESTLINE_DATABASE": "questline_scratch"}), producer=producer)
    assert "<code>hive.questline_scratch</code>" in app.test_client().get("/dashboard").text
    with pytest.raises(SettingsError, match=r"QUESTLINE_DATABASE='Questline' is not a lower-case SQL name"):
        load({**KAFKA, "QUESTLINE_DATABASE": "Questline"})


def test_the_dashboard_queries_the_catalog_the_spark_jobs_are_told_to_use(producer):
    app = create_app(load({**KAFKA, "QUESTLINE_TRINO_CATALOG": "lake"}), producer=producer)
    assert "<code>lake.questline</code>" in app.test_client().get("/dashboard").text
    with pytest.raises(SettingsError, match=r"QUESTLINE_TRINO_CATALOG='Hive' is not a lower-case SQL name"):
        load({**KAFKA, "QUESTLINE_TRINO_CATALOG": "Hive"})


def test_dashboard_cache_period_has_a_floor_so_browsers_cannot_drive_trino():
    with pytest.raises(SettingsError, match=r"QUESTLINE_API_DASHBOARD_CACHE_SECONDS='0.1' is out of range"):
        load({**KAFKA, "QUESTLINE_API_DASHBOARD_CACHE_SECONDS": "0.1"})
