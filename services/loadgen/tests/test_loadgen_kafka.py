"""The simulator's ground truth against what a Kafka consumer reads (the real local
Kafka, the game API under gunicorn with two workers, a topic of this module only)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from questline_devkit.process import free_port
from questline_loadgen import settings as settings_module
from questline_loadgen.simulator import run
from questline_stack.scratch import Scratch, end_offsets, records_between

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def topic(kafka_stack):
    with Scratch(kafka_stack, "loadgen") as scratch:
        yield scratch.topic


@pytest.fixture(scope="module")
def api_url(kafka_stack, topic, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("loadgen-api") / "gunicorn.log"
    env = {
        **os.environ,
        "QUESTLINE_API_BIND": f"127.0.0.1:{port}",
        "QUESTLINE_API_WORKERS": "2",
        "QUESTLINE_EVENTS_TOPIC": topic,
    }
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with open(log, "wb") as out:
        argv = [gunicorn, "-c", "python:questline_api.gunicorn_conf"]
        server = subprocess.Popen(argv, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert server.poll() is None, log.read_text()
        time.sleep(0.5)
    else:
        pytest.fail(f"the API did not get ready in 60s:\n{log.read_text()}")
    yield url
    server.terminate()
    server.wait(30)


def test_the_ground_truth_is_exactly_what_a_kafka_consumer_reads(kafka_stack, topic, api_url, tmp_path):
    before = end_offsets(kafka_stack, topic)
    settings = settings_module.load(
        ["--api-url", api_url, "--players", "40", "--rate", "150", "--duration", "10", "--no-progress"],
        {},
        ground_truth=tmp_path / "gt.json",
    )
    truth = run(settings)
    records = [
        orjson.loads(value)
        for _key, value in records_between(kafka_stack, topic, before, end_offsets(kafka_stack, topic))
    ]
    mine = [r for r in records if (r.get("player_id") or "").startswith(f"{settings.run_id}-")]
    document = orjson.loads((tmp_path / "gt.json").read_bytes())
    # Enough events to mean something; how many 10 s bring depends on the machine's load
    # (115 to 306 in 6 s at load average 28), so this is a floor, not a rate.
    assert document["totals"]["acknowledged"] >= 100
    assert len(document["by_event_type"]) >= 5
    assert document["totals"]["unknown"] == 0
    assert sorted(r["event_id"] for r in mine) == sorted(document["acknowledged_event_ids"])
    by_type = {}
    for r in mine:
        by_type[r["event_type"]] = by_type.get(r["event_type"], 0) + 1
    assert by_type == {t: c["acknowledged"] for t, c in document["by_event_type"].items() if c["acknowledged"]}
    assert truth.total_acknowledged == len(mine)
