"""The local stack's own promises: the check passes, starting twice is harmless,
stopping leaves no process behind."""

import os
import subprocess
import sys
import time

import pytest

from questline_devkit import process
from questline_stack.components.kafka import Kafka
from questline_stack.settings import load

pytestmark = pytest.mark.stack
CLI = [sys.executable, "-m", "questline_stack.cli"]


def test_stack_check_round_trips_kafka_hdfs_spark_hive_and_trino(local_stack):
    result = subprocess.run([*CLI, "check"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Trino read exactly 1234 rows back" in result.stderr


def test_second_up_keeps_every_process(local_stack):
    from questline_stack.components import all_components

    before = {name: pid for c in all_components(local_stack) for name, pid in c.pids().items()}
    assert all(before.values()), f"not all processes run: {before}"
    result = subprocess.run([*CLI, "up"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    after = {name: pid for c in all_components(local_stack) for name, pid in c.pids().items()}
    assert after == before


def test_status_reports_every_component_ready(local_stack):
    result = subprocess.run([*CLI, "status"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout
    for name in ("postgres", "kafka", "hdfs", "metastore", "trino"):
        assert f"{name}: ready" in result.stdout


def test_down_in_a_separate_state_dir_leaves_no_process(tmp_path, kafka_stack):
    # A second Kafka on other ports and its own state dir, so the shared stack keeps running.
    env = {
        **os.environ,
        "QUESTLINE_STATE": str(tmp_path / "state"),
        "QUESTLINE_KAFKA_PORT": str(process.free_port()),
        "QUESTLINE_KAFKA_CONTROLLER_PORT": str(process.free_port()),
        "QUESTLINE_KAFKA_HEAP": "256m",
    }
    up = subprocess.run([*CLI, "up", "kafka"], capture_output=True, text=True, env=env, timeout=300)
    assert up.returncode == 0, up.stderr
    pid = int((tmp_path / "state" / "run" / "kafka.pid").read_text())
    os.kill(pid, 0)  # running
    # Something else started on that stack (as the demo starts the API): down stops it too.
    monkey = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from questline_devkit import process; from questline_stack import settings; "
            "print(process.spawn(settings.load(), 'app-on-stack', ['sleep', '600']))",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    app_pid = int(monkey.stdout)

    down = subprocess.run([*CLI, "down", "--purge"], capture_output=True, text=True, env=env, timeout=120)
    assert down.returncode == 0, down.stderr
    time.sleep(0.5)
    assert not process.alive(pid)
    assert not process.alive(app_pid)
    assert not (tmp_path / "state").exists()


def test_a_bad_port_setting_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("QUESTLINE_KAFKA_PORT", "kafka")
    result = subprocess.run([*CLI, "status"], capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 1
    assert "QUESTLINE_KAFKA_PORT='kafka' is not a port number" in result.stderr


def test_kafka_has_the_events_topic_and_no_auto_creation(kafka_stack):
    from confluent_kafka import Producer

    assert Kafka(kafka_stack).ready()
    # A short message timeout: librdkafka otherwise waits minutes for a missing topic to appear.
    producer = Producer(kafka_stack.kafka_config(**{"message.timeout.ms": 5000}))
    metadata = producer.list_topics(timeout=10)
    assert "events" in metadata.topics
    assert len(metadata.topics["events"].partitions) == kafka_stack.events_partitions
    # A produce to a missing topic must fail instead of creating it.
    assert "no-such-topic-questline" not in producer.list_topics(timeout=10).topics
    errors = []
    producer.produce("no-such-topic-questline", b"x", on_delivery=lambda err, msg: errors.append(err))
    producer.flush(15)
    assert errors and errors[0] is not None
    assert "no-such-topic-questline" not in producer.list_topics(timeout=10).topics


def test_process_memory_is_measured_for_running_components(kafka_stack):
    pid = process.running_pid(load(), "kafka")
    assert pid is not None
    assert process.rss_mib(pid) > 50
