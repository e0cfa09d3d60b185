"""/play and /dashboard in headless Chromium against the real local stack.

What a player clicks travels API → Kafka → Spark streaming → Parquet/HDFS →
Trino; these tests follow it all the way and look at what the pages show.
"""

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from questline_demo import driver as demo

pytestmark = [pytest.mark.browser, pytest.mark.stack, pytest.mark.timeout(1200)]

# How long the rows of an acknowledged event may take to show in Trino: the
# streaming job's start (a JVM on a busy 2-core machine) plus a few micro-batches.
PIPELINE_TIMEOUT = 600
UI_TIMEOUT_MS = 30_000

PURCHASES = [("sword", "katana"), ("axe", "bardiche"), ("shield", "kite")]


def _choose_player(page: Page, name: str) -> None:
    page.get_by_label("Player name").fill(name)
    page.get_by_role("button", name="Play as this player").click()
    expect(page.locator("#player-current")).to_have_text(f"Playing as {name}.")


def _acknowledged(page: Page, action_text: str) -> str:
    """Wait for the answer of the action just sent; its event id."""
    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-state", "accepted", timeout=UI_TIMEOUT_MS)
    expect(answer).to_contain_text(f"{action_text}: accepted (202).")
    event_id = answer.locator("code.event-id").inner_text()
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", event_id)
    # The running list shows it first.
    expect(page.locator("#events li").first.locator("code.event-id")).to_have_text(event_id)
    return event_id


def _play_every_action(page: Page, player: str, guild: str, rival: str) -> dict[str, str]:
    """Perform each action through the page; event_id -> expected event_type."""
    expected = {}
    for item, kind in PURCHASES:
        page.get_by_label(item.capitalize(), exact=True).check()
        page.get_by_label("Type").fill(kind)
        page.get_by_label("Price (gold)").fill("25")
        page.get_by_role("button", name="Buy").click()
        expected[_acknowledged(page, f"Buy {item} ({kind})")] = f"purchase_{item}"
    page.get_by_label("Guild name").fill(guild)
    page.get_by_role("button", name="Join guild").click()
    expected[_acknowledged(page, f"Join guild {guild}")] = "join_guild"
    # Joining fills in "Your guild" for the declarations.
    expect(page.get_by_label("Your guild")).to_have_value(guild)
    page.get_by_label("Other guild").fill(rival)
    page.get_by_role("button", name="Declare war").click()
    expected[_acknowledged(page, f"War: {guild} → {rival}")] = "declare_war"
    page.get_by_role("button", name="Declare peace").click()
    expected[_acknowledged(page, f"Peace: {guild} → {rival}")] = "declare_peace"
    page.get_by_role("button", name="Leave guild").click()
    expected[_acknowledged(page, f"Leave guild {guild}")] = "leave_guild"
    return expected


def _dashboard_number(page: Page, table: str) -> int:
    text = page.locator(f'[data-table="{table}"]').inner_text()
    return int(re.sub(r"\D", "", text) or 0)


def _wait_for_rows(cursor, pipeline, event_ids: list[str]) -> dict[str, tuple]:
    """event_id -> (event_type, player_id) once every id is in the events table."""
    placeholders = ", ".join("?" * len(event_ids))
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    last_error = None
    while time.monotonic() < deadline:
        try:
            cursor.execute(
                f"SELECT event_id, event_type, player_id FROM events WHERE event_id IN ({placeholders})", event_ids
            )
            found = {row[0]: tuple(row[1:]) for row in cursor.fetchall()}
            if len(found) == len(event_ids):
                return found
        except Exception as exc:  # the tables appear with the streaming job's start
            last_error = exc
        failure = pipeline.failure()
        if failure:
            pytest.fail(failure, pytrace=False)
        time.sleep(2)
    pytest.fail(
        f"after {PIPELINE_TIMEOUT}s Trino does not show all of {event_ids} (last error: {last_error})", pytrace=False
    )


def _wait_until_live(api, cursor, pipeline) -> None:
    """Post probe events until one reaches Trino: the streaming job and its tables are live."""
    deadline = time.monotonic() + PIPELINE_TIMEOUT
    while time.monotonic() < deadline:
        response = httpx.post(
            f"{api.url}/v1/players/web-probe/guild-memberships",
            json={"guild_name": "Probes"},
            headers=demo.dev_login_headers(api.url, "web-probe"),
        )
        response.raise_for_status()
        probe = response.json()["event_id"]
        probe_deadline = min(deadline, time.monotonic() + 30)
        while time.monotonic() < probe_deadline:
            try:
                cursor.execute("SELECT count(*) FROM events WHERE event_id = ?", [probe])
                if cursor.fetchone()[0]:
                    return
            except Exception:  # the tables appear with the streaming job's start
                pass
            failure = pipeline.failure()
            if failure:
                pytest.fail(failure, pytrace=False)
            time.sleep(2)
    pytest.fail(f"no probe event reached Trino within {PIPELINE_TIMEOUT}s", pytrace=False)


def test_each_action_is_acknowledged_lands_in_trino_and_the_dashboard_counts_rise(
    page, api, pipeline, trino_cursor, player_id, screenshot
):
    guild, rival = f"Order {player_id}", f"Rivals {player_id}"
    _wait_until_live(api, trino_cursor, pipeline)
    dashboard = page.context.new_page()
    dashboard.goto(f"{api.url}/dashboard")
    expect(dashboard.locator("#pipeline-status")).to_have_attribute("data-status", "ok", timeout=UI_TIMEOUT_MS)
    expect(dashboard.locator("#total-events")).not_to_have_text("–", timeout=UI_TIMEOUT_MS)
    events_before = _dashboard_number(dashboard, "events")
    purchases_before = _dashboard_number(dashboard, "purchases")

    page.goto(f"{api.url}/play")
    _choose_player(page, player_id)
    expected = _play_every_action(page, player_id, guild, rival)
    assert sorted(expected.values()) == sorted(
        [f"purchase_{item}" for item, _ in PURCHASES] + ["join_guild", "declare_war", "declare_peace", "leave_guild"]
    )
    expect(page.locator("#events li")).to_have_count(len(expected))
    screenshot(page, "play-after-actions")

    rows = _wait_for_rows(trino_cursor, pipeline, list(expected))
    assert {event_id: row[0] for event_id, row in rows.items()} == expected
    assert {row[1] for event_id, row in rows.items() if not expected[event_id].startswith("declare")} == {player_id}
    trino_cursor.execute("SELECT item, item_type, price FROM purchases WHERE player_id = ? ORDER BY item", [player_id])
    assert [tuple(r) for r in trino_cursor.fetchall()] == sorted((i, k, 25) for i, k in PURCHASES)
    trino_cursor.execute(
        "SELECT event_type, guild_name, target_guild FROM declarations WHERE player_id = ? ORDER BY event_type",
        [player_id],
    )
    assert [tuple(r) for r in trino_cursor.fetchall()] == [
        ("declare_peace", guild, rival),
        ("declare_war", guild, rival),
    ]

    # The dashboard refreshes itself: no reload, the numbers rise on their own.
    dashboard.wait_for_function(
        "([table, before]) => Number(document.querySelector(`[data-table=${table}]`).textContent.replace(/\\D/g, ''))"
        " >= before",
        arg=["events", events_before + len(expected)],
        timeout=UI_TIMEOUT_MS * 2,
    )
    assert _dashboard_number(dashboard, "purchases") >= purchases_before + len(PURCHASES)
    # Each table of a Spark batch commits on its own, and the page shows one cached
    # snapshot per refresh: the snapshot that first shows the new events may predate
    # the declarations, so give the next refresh (cache + poll interval) time to come.
    expect(dashboard.locator("#chart-wars_and_peace")).to_contain_text("wars declared", timeout=UI_TIMEOUT_MS)
    expect(dashboard.locator("#chart-guild_sizes")).not_to_contain_text("No rows yet.", timeout=UI_TIMEOUT_MS)
    assert int(dashboard.locator("#per-minute-chart").get_attribute("data-total")) >= len(expected)
    expect(dashboard.locator("#freshness")).to_have_text(re.compile(r"^\d+ (s|min)$"))
    screenshot(dashboard, "dashboard-live")
    assert page.console_errors == []


def test_an_invalid_purchase_shows_the_servers_reason_and_adds_no_event(page, api, player_id, screenshot):
    page.goto(f"{api.url}/play")
    _choose_player(page, player_id)
    page.get_by_label("Strength").fill("5000")
    page.get_by_role("button", name="Buy").click()
    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-state", "problem", timeout=UI_TIMEOUT_MS)
    expect(answer).to_contain_text("refused (422 The request is not a valid event)")
    expect(answer.locator("li")).to_contain_text("strength")
    expect(answer).to_contain_text("Nothing was recorded.")
    expect(page.get_by_label("Strength")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#events li")).to_have_count(0)
    screenshot(page, "play-invalid-action")

    # Fixing the field clears the mark and the next answer is an acknowledgement.
    page.get_by_label("Strength").fill("50")
    page.get_by_role("button", name="Buy").click()
    _acknowledged(page, "Buy sword")
    expect(page.get_by_label("Strength")).not_to_have_attribute("aria-invalid", "true")
    assert page.console_errors == []


def test_without_kafka_the_page_shows_503_and_the_retry_reuses_the_idempotency_key(
    page, broken_api, player_id, screenshot
):
    def join_request(response):
        return "/guild-memberships" in response.url

    page.goto(f"{broken_api.url}/play")
    _choose_player(page, player_id)
    page.get_by_label("Guild name").fill("Unlucky Guild")
    with page.expect_response(join_request, timeout=UI_TIMEOUT_MS) as first:
        page.get_by_role("button", name="Join guild").click()
    answer = page.locator("#answer")
    expect(answer).to_have_attribute("data-state", "unavailable")
    expect(answer).to_contain_text("not confirmed (503")
    expect(answer).to_contain_text("retry after 2 s")
    retry = page.locator("#retry")
    expect(retry).to_be_visible()
    expect(retry).to_be_disabled()
    screenshot(page, "play-kafka-unavailable")

    expect(retry).to_be_enabled(timeout=UI_TIMEOUT_MS)
    with page.expect_response(join_request, timeout=UI_TIMEOUT_MS) as again:
        retry.click()
    expect(answer).to_contain_text("not confirmed (503")
    key = first.value.request.headers["idempotency-key"]
    assert again.value.request.headers["idempotency-key"] == key

    # A new click is a new action, with a new key.
    with page.expect_response(join_request, timeout=UI_TIMEOUT_MS) as other:
        page.get_by_role("button", name="Join guild").click()
    assert other.value.status == 503
    assert other.value.request.headers["idempotency-key"] != key
    expect(page.locator("#events li")).to_have_count(0)
    assert page.console_errors == []


def test_dashboard_says_pipeline_not_reachable_when_trino_does_not_answer(page, broken_api, screenshot):
    response = page.goto(f"{broken_api.url}/dashboard")
    assert response.status == 200
    status = page.locator("#pipeline-status")
    expect(status).to_have_attribute("data-status", "unreachable", timeout=UI_TIMEOUT_MS)
    expect(status).to_contain_text("Pipeline not reachable")
    expect(status).to_contain_text("did not answer")
    expect(page.locator("#total-events")).to_have_text("–")
    screenshot(page, "dashboard-not-reachable")
    assert page.console_errors == []
