"""Scenario 1: the Kafka broker is SIGKILLed under simulator load and restarted.

While Kafka is down the API answers 503 + Retry-After (never a 2xx for an event Kafka did
not take) and /readyz fails; once Kafka is back the same API processes recover. The
simulator retries with the same Idempotency-Key, so every acknowledged event is in the
tables exactly once, including events whose first try timed out but reached Kafka anyway.
"""

import time
import uuid
from collections import Counter

import httpx
import pytest
from api_stack import TopicReader
from faultlib import Simulation, assert_exactly_once, http_status, record_row, settle, wait_for

from questline_demo import driver as demo
from questline_events import TOPIC_EVENTS, derive_event_id

pytestmark = pytest.mark.timeout(3600)

SIZES = [
    pytest.param({"players": 30, "rate": 25, "duration": 40, "outage": 12}, marks=pytest.mark.stack, id="short"),
    pytest.param({"players": 300, "rate": 150, "duration": 300, "outage": 45}, marks=pytest.mark.faults, id="long"),
]


def _probe(api_url: str, player: str, key: str) -> httpx.Response | None:
    try:
        return httpx.post(
            f"{api_url}/v1/players/{player}/guild-memberships",
            json={"guild_name": "Outage Probes"},
            headers={"Idempotency-Key": key, **demo.dev_login_headers(api_url, player)},
            timeout=15,
        )
    except httpx.TransportError:
        return None


@pytest.mark.parametrize("size", SIZES)
def test_kafka_sigkill_under_load_gives_503s_then_recovers_with_nothing_lost_or_duplicated(
    faults_stack, run_id, tmp_path, size, results_file
):
    stack = faults_stack
    api_pid = stack.api_pid()
    reader = TopicReader(stack.settings, TOPIC_EVENTS)  # the private stack's own topic
    mark = reader.mark()
    simulation = Simulation(
        stack.api_url, tmp_path, run_id, players=size["players"], rate=size["rate"], duration=size["duration"],
        concurrency=16, max_retries=60, request_timeout=10,
    )  # fmt: skip
    time.sleep(size["duration"] / 4)

    stack.kill("kafka")
    down_at = time.monotonic()
    probe_player, probe_key = f"probe{run_id}", uuid.uuid4().hex
    probe_answers, ready_answers, late_ready_answers = Counter(), Counter(), Counter()
    while time.monotonic() - down_at < size["outage"]:
        answer = _probe(stack.api_url, probe_player, probe_key)
        probe_answers[answer.status_code if answer is not None else "no answer"] += 1
        if answer is not None and answer.status_code == 503:
            assert answer.headers["Content-Type"] == "application/problem+json"
            assert int(answer.headers["Retry-After"]) >= 1
        ready = http_status(f"{stack.api_url}/readyz")
        ready_answers[ready] += 1
        # /readyz caches its answer briefly and the client notices a dead broker within seconds.
        if time.monotonic() - down_at > 5:
            late_ready_answers[ready] += 1
        time.sleep(0.5)
    stack.up("kafka")
    outage = time.monotonic() - down_at
    recovered_in = wait_for(lambda: http_status(f"{stack.api_url}/readyz") == 200, 180, "/readyz to pass again")

    # The same API processes recover; the probe, retried with its key, is taken once.
    assert stack.api_pid() == api_pid, "the API was restarted"
    retried = wait_for(lambda: _probe(stack.api_url, probe_player, probe_key).status_code == 202, 120, "probe")
    truth = simulation.finish(timeout=size["duration"] + 900)
    result = settle(stack, truth)
    on_kafka = Counter(record["event_id"] for _, record in reader.records_since(mark, timeout=120))
    (probe_rows,) = (
        stack.trino()
        .cursor()
        .execute("SELECT count(*) FROM events WHERE event_id = ?", [derive_event_id(probe_player, probe_key)])
        .fetchone()
    )

    retried_on_kafka = sum(1 for n in on_kafka.values() if n > 1)
    responses_503 = sum(n for k, n in truth["responses"].items() if k.endswith(" 503"))
    figures = {
        "scenario": f"Kafka broker SIGKILL + restart ({size})",
        "load": f"{size['rate']} events/s target, {size['players']} players, {size['duration']}s",
        "faults": f"1 broker SIGKILL, down {outage:.0f}s",
        "acknowledged": result.acknowledged,
        "in_tables": result.in_tables,
        "missing": len(result.missing),
        "duplicated": len(result.duplicated),
        "notes": f"503s to the simulator {responses_503}, retries {truth['totals']['retries']}, "
        f"event_ids on Kafka more than once {retried_on_kafka}, unknown outcome {truth['totals']['unknown']}, "
        f"probe answers during outage {dict(probe_answers)}, /readyz during outage {dict(ready_answers)}, "
        f"ready again {recovered_in:.0f}s after restart, probe retry taken after {retried:.0f}s, "
        f"stream restarts so far {stack.supervisor.restarts}",
    }
    print(figures)
    record_row(results_file, figures)

    taken = [status for status in probe_answers if isinstance(status, int) and status < 300]
    assert not taken, f"2xx while Kafka was down: {probe_answers}"
    assert probe_answers[503] > 0, probe_answers
    assert late_ready_answers[503] > 0 and late_ready_answers[200] == 0, ready_answers
    assert probe_rows == 1
    assert_exactly_once(result)
