"""Helpers of the integration tests: the real Kafka of the local stack, gunicorn, a topic reader.

The tests write to a topic of their own (questline_stack.scratch.Scratch), never to `events`."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import orjson
from confluent_kafka import Consumer, TopicPartition

from questline_settings.kafka import client_config, kafka_credentials

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """The API as it runs in production: gunicorn, several workers, the package's config."""

    def __init__(self, bootstrap: str, log_path: Path, workers: int = 3, port: int | None = None, **env: str):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "QUESTLINE_API_BIND": f"127.0.0.1:{self.port}",
            "QUESTLINE_API_WORKERS": str(workers),
            "QUESTLINE_API_THREADS": "4",
            **env,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60, ready_path: str = "/readyz") -> "Gunicorn":
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [BIN / "gunicorn", "-c", "python:questline_api.gunicorn_conf"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(self.url + ready_path, timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the API was not ready within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class TopicReader:
    """Reads what landed on a topic between a mark and now."""

    def __init__(self, bootstrap: str, topic: str):
        self.topic = topic
        self.consumer = Consumer(
            # As the user of QUESTLINE_KAFKA_USERNAME/_PASSWORD: the stack's admin (conftest.start_stack).
            client_config(
                bootstrap,
                kafka_credentials(),
                **{"group.id": f"questline-api-tests-{uuid.uuid4().hex}", "enable.auto.commit": False},
            )
        )
        metadata = self.consumer.list_topics(topic, timeout=10)
        self.partitions = sorted(metadata.topics[topic].partitions)

    def _high_watermarks(self) -> dict[int, int]:
        return {
            p: self.consumer.get_watermark_offsets(TopicPartition(self.topic, p), timeout=10)[1]
            for p in self.partitions
        }

    def mark(self) -> dict[int, int]:
        return self._high_watermarks()

    def records_since(self, mark: dict[int, int], timeout: float = 30) -> list[tuple[bytes | None, dict]]:
        """Every record appended after `mark`, up to the current end of each partition."""
        end = self._high_watermarks()
        todo = {p for p in self.partitions if end[p] > mark[p]}
        if not todo:
            return []
        self.consumer.assign([TopicPartition(self.topic, p, mark[p]) for p in todo])
        records = []
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            message = self.consumer.poll(1.0)
            if message is None or message.error():
                continue
            if message.partition() in todo and message.offset() < end[message.partition()]:
                records.append((message.key(), orjson.loads(message.value())))
            if message.offset() >= end[message.partition()] - 1:
                todo.discard(message.partition())
        self.consumer.unassign()
        if todo:
            raise TimeoutError(f"partitions {sorted(todo)} were not read to their end within {timeout}s")
        return records

    def close(self) -> None:
        self.consumer.close()
