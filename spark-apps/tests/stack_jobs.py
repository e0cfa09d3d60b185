"""Helpers of the jobs' integration tests: the local stack's real servers, the jobs as processes."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import trino
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from questline_events import TRINO_CATALOG
from questline_settings.trino import connect as trino_connect

BIN = Path(sys.executable).parent


def stack_env() -> dict[str, str]:
    """Start the local stack (harmless when running; never stopped here) and return its client env."""
    subprocess.run([BIN / "questline-stack", "up"], check=True, timeout=900, capture_output=True)
    printed = subprocess.run([BIN / "questline-stack", "env"], check=True, capture_output=True, text=True).stdout
    env = {}
    for line in printed.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = value.strip("'\"")
    return env


class Run:
    """One isolated run: its own topic, database, warehouse and checkpoint."""

    def __init__(self, env: dict[str, str], logs: Path, partitions: int = 2):
        self.id = uuid.uuid4().hex[:10]
        self.topic = f"spark-it-{self.id}"
        self.database = f"questline_it_{self.id}"
        root = f"{env['QUESTLINE_HDFS_URI']}/questline-tests/{self.id}"
        self.env = {
            **os.environ,
            **env,
            "QUESTLINE_EVENTS_TOPIC": self.topic,
            "QUESTLINE_DATABASE": self.database,
            "QUESTLINE_WAREHOUSE_DIR": f"{root}/warehouse",
            "QUESTLINE_STREAM_CHECKPOINT_DIR": f"{root}/checkpoint",
            "QUESTLINE_STREAM_TRIGGER_SECONDS": "1",
            "QUESTLINE_SPARK_DRIVER_MEMORY": "768m",
        }
        self.logs = logs
        bootstrap = env["KAFKA_BOOTSTRAP_SERVERS"]
        admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
        admin.create_topics([NewTopic(self.topic, partitions, 1)])[self.topic].result(timeout=60)
        self.producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5})
        self.trino = trino_connect(env["QUESTLINE_TRINO_URL"], user="spark-it", catalog=TRINO_CATALOG)

    def produce(self, *values, key: bytes | None = b"player-1") -> None:
        for value in values:
            if isinstance(value, dict):
                value = json.dumps(value)
            self.producer.produce(self.topic, value=value.encode() if isinstance(value, str) else value, key=key)
        assert self.producer.flush(60) == 0

    def query(self, sql: str) -> list[tuple]:
        cursor = self.trino.cursor()
        cursor.execute(sql.replace("{db}", f'"{self.database}"'))
        return [tuple(row) for row in cursor.fetchall()]

    def counts(self) -> dict[str, int]:
        tables = ("events", "visits", "purchases", "joins", "declarations", "quarantine")
        union = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {{db}}.{t}" for t in tables)
        try:
            return dict(self.query(union))
        except trino.exceptions.TrinoUserError:
            return {}  # the tables do not exist yet

    def job(self, name: str, *args: str) -> subprocess.Popen:
        """Start a job; its output goes to the file `.log_path` of the returned process."""
        path = self.logs / f"{name}-{self.id}-{time.monotonic_ns()}.log"
        log = open(path, "wb")  # noqa: SIM115
        # Own process group: the Python driver and its JVM can be killed together.
        process = subprocess.Popen(
            [BIN / name, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        process.log_path = path
        return process

    def run_job(self, name: str, *args: str, timeout: float = 900) -> None:
        process = self.job(name, *args)
        assert process.wait(timeout) == 0, f"{name} failed; log in {self.logs}"


def wait_until(condition: Callable[[], bool], timeout: float, what: str, alive: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"the job exited with {alive.returncode} while waiting for {what}")
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the driver's whole process group: no shutdown hook, no final commit."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)
