"""Helpers of the jobs' integration tests: the local stack's real servers, the jobs as processes."""

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trino
from confluent_kafka import Producer

from questline_events import TRINO_CATALOG, TRINO_PIPELINE_USER
from questline_stack.scratch import Scratch
from questline_stack.settings import KAFKA_SPARK, Settings

BIN = Path(sys.executable).parent


class Run:
    """One isolated run: its own topic, database, warehouse and checkpoint (a Scratch of the
    stack), removed by `remove()` after the jobs it started are stopped."""

    def __init__(self, stack: Settings, logs: Path, partitions: int = 2):
        self.stack = stack
        self.scratch = Scratch(stack, "sparkjobs", partitions).create()
        self.id = self.scratch.database.removeprefix("questline_test_")
        self.topic = self.scratch.topic
        self.database = self.scratch.database
        self.env = {
            **os.environ,
            **stack.client_env(kafka_user=KAFKA_SPARK),  # the jobs as in production: read only
            **stack.trino_env(TRINO_PIPELINE_USER),
            **self.scratch.env,
            "QUESTLINE_STREAM_TRIGGER_SECONDS": "1",
            "QUESTLINE_SPARK_DRIVER_MEMORY": "768m",
        }
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        # As the admin: the jobs' own user may not write.
        self.producer = Producer(stack.kafka_config(**{"acks": "all", "linger.ms": 5}))
        self.trino = stack.trino_connect(catalog=TRINO_CATALOG)

    def remove(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                kill(process)
        self.trino.close()
        self.scratch.remove()

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
        self.processes.append(process)
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
