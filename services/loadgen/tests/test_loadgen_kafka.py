"""The simulator's ground truth against what a Kafka consumer reads (the real local
Kafka, the game API under gunicorn with two workers, a topic of this module only)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition

from questline_loadgen import settings as settings_module
from questline_loadgen.simulator import run
from questline_stack.scratch import Scratch

pytestmark = pytest.mark.stack


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def topic(kafka_stack):
    with Scratch(kafka_stack, "loadgen") as scratch:
        yield scratch.topic


@pytest.fixture(scope="module")
def api_url(kafka_stack, topic, tmp_path_factory):
    port = _free_port()
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


def _end_offsets(consumer: Consumer, topic: str) -> list[TopicPartition]:
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    out = []
    for p in partitions:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        out.append(TopicPartition(topic, p, high))
    return out


def _read_between(consumer: Consumer, start: list[TopicPartition], end: list[TopicPartition]) -> list[dict]:
    stop_at = {tp.partition: tp.offset for tp in end}
    consumer.assign(start)
    remaining = {tp.partition for tp in start if tp.offset < stop_at[tp.partition]}
    records = []
    deadline = time.monotonic() + 120
    while remaining and time.monotonic() < deadline:
        msg = consumer.poll(1.0)
        if msg is None or msg.error():
            continue
        records.append(orjson.loads(msg.value()))
        if msg.offset() + 1 >= stop_at[msg.partition()]:
            remaining.discard(msg.partition())
    assert not remaining, f"partitions {remaining} were not read to their end within 120s"
    return records


def test_the_ground_truth_is_exactly_what_a_kafka_consumer_reads(kafka_stack, topic, api_url, tmp_path):
    consumer = Consumer(kafka_stack.kafka_config(**{"group.id": "loadgen-test", "enable.auto.commit": False}))
    try:
        before = _end_offsets(consumer, topic)
        settings = settings_module.load(
            ["--api-url", api_url, "--players", "40", "--rate", "150", "--duration", "6", "--no-progress"],
            {},
            ground_truth=tmp_path / "gt.json",
        )
        truth = run(settings)
        records = _read_between(consumer, before, _end_offsets(consumer, topic))
    finally:
        consumer.close()
    mine = [r for r in records if (r.get("player_id") or "").startswith(f"{settings.run_id}-")]
    document = orjson.loads((tmp_path / "gt.json").read_bytes())
    assert document["totals"]["acknowledged"] > 300
    assert document["totals"]["unknown"] == 0
    assert sorted(r["event_id"] for r in mine) == sorted(document["acknowledged_event_ids"])
    by_type = {}
    for r in mine:
        by_type[r["event_type"]] = by_type.get(r["event_type"], 0) + 1
    assert by_type == {t: c["acknowledged"] for t, c in document["by_event_type"].items() if c["acknowledged"]}
    assert truth.total_acknowledged == len(mine)
