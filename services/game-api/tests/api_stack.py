"""Helpers of the integration tests: the real Kafka of the local stack, gunicorn, a topic reader.

The tests write to a topic of their own (questline_stack.scratch.Scratch), never to `events`."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson

from questline_devkit.process import free_port
from questline_stack.scratch import end_offsets, records_between
from questline_stack.settings import Settings

BIN = Path(sys.executable).parent


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

    def __init__(self, stack: Settings, topic: str):
        self.stack = stack  # read as its admin
        self.topic = topic

    def mark(self) -> dict[int, int]:
        return end_offsets(self.stack, self.topic)

    def records_since(self, mark: dict[int, int], timeout: float = 30) -> list[tuple[bytes | None, dict]]:
        """Every record appended after `mark`, up to the current end of each partition."""
        records = records_between(self.stack, self.topic, mark, self.mark(), timeout)
        return [(key, orjson.loads(value)) for key, value in records]
