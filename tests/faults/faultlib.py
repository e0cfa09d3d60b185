"""Helpers of the fault-injection tests: a private copy of the local stack, the API and the
streaming job as its processes, the simulator as a subprocess, and the accounting through Trino.

Faults are injected into a stack of our own (its own state dir and free ports), never into
the shared one other tests and people use.
"""

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from rich.console import Console

from questline_analytics import accounting, queries
from questline_analytics import settings as analytics_settings
from questline_demo import driver as demo
from questline_devkit import process
from questline_devkit.process import free_port, free_ports
from questline_events import TOPIC_EVENTS, TRINO_PIPELINE_USER
from questline_stack import settings as stack_settings
from questline_stack.scratch import end_offsets

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
STACK_CLI = [sys.executable, "-m", "questline_stack.cli"]
STREAM = demo.STREAM
CONSOLE = Console(stderr=True)

# Every port of the stack; each gets a free one so a second stack fits beside the shared one.
PORT_VARIABLES = (
    "QUESTLINE_KAFKA_PORT",
    "QUESTLINE_KAFKA_CONTROLLER_PORT",
    "QUESTLINE_NAMENODE_PORT",
    "QUESTLINE_NAMENODE_HTTP_PORT",
    "QUESTLINE_DATANODE_PORT",
    "QUESTLINE_DATANODE_HTTP_PORT",
    "QUESTLINE_DATANODE_IPC_PORT",
    "QUESTLINE_POSTGRES_PORT",
    "QUESTLINE_METASTORE_PORT",
    "QUESTLINE_TRINO_PORT",
    "QUESTLINE_TRINO_HTTPS_PORT",
)
# Laptop-sized heaps: this stack runs beside the shared one on a 2-core machine.
SMALL_HEAPS = {
    "QUESTLINE_KAFKA_HEAP": "384m",
    "QUESTLINE_NAMENODE_HEAP": "256m",
    "QUESTLINE_DATANODE_HEAP": "256m",
    "QUESTLINE_METASTORE_HEAP": "384m",
    "QUESTLINE_TRINO_HEAP": "1g",
}


def http_status(url: str, timeout: float = 3) -> int | None:
    try:
        return httpx.get(url, timeout=timeout).status_code
    except httpx.TransportError:
        return None


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> float:
    """Poll until condition() is true; seconds it took. Fails naming what it waited for."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(Exception):
            if condition():
                return time.monotonic() - started
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class IsolatedStack:
    """`questline-stack` with its own state dir and ports: up, down --purge, kill and restart parts."""

    def __init__(self, extra_env: dict[str, str] | None = None):
        # Under /var/tmp, not pytest's tmp_path: PostgreSQL runs as its own user and must reach it.
        self.state_dir = Path(tempfile.mkdtemp(prefix="questline-faults-", dir="/var/tmp"))
        self.state_dir.chmod(0o755)
        self.env = {
            **os.environ,
            **SMALL_HEAPS,
            **dict(zip(PORT_VARIABLES, map(str, free_ports(len(PORT_VARIABLES))), strict=True)),
            "QUESTLINE_STATE": str(self.state_dir),
            **(extra_env or {}),
        }
        self.settings = self._load_settings()
        self.api_url: str | None = None

    def _load_settings(self) -> stack_settings.Settings:
        saved = dict(os.environ)
        os.environ.update(self.env)
        try:
            return stack_settings.load()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        result = subprocess.run([*STACK_CLI, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            # The stack's own messages, not the Java class paths it echoes.
            lines = [line[:400] for line in (result.stdout + result.stderr).splitlines()[-40:]]
            raise AssertionError(f"questline-stack {' '.join(args)} failed:\n" + "\n".join(lines))
        return result

    def up(self, *names: str) -> None:
        self.cli("up", *names)

    def down(self) -> None:
        for name in (STREAM, "api"):
            process.stop(self.settings, name)
        subprocess.run([*STACK_CLI, "down", "--purge"], env=self.env, capture_output=True, timeout=300)

    @property
    def client_env(self) -> dict[str, str]:
        """What the Spark jobs of this stack are started with (as the pipeline user)."""
        return {**self.env, **self.settings.client_env(), **self.settings.trino_env(TRINO_PIPELINE_USER)}

    def kill(self, name: str) -> int:
        """SIGKILL a component's process group; its pid."""
        pid = process.running_pid(self.settings, name)
        assert pid is not None, f"{name} is not running in {self.state_dir}"
        process.kill(self.settings, name)
        # That pid gone, not the name: the supervisor may already have started a new driver.
        wait_for(lambda: process.running_pid(self.settings, name) != pid, 30, f"{name} (pid {pid}) to die")
        return pid

    # ------------------------------------------------------------ API and streaming job
    def start_api(self, workers: int = 2) -> str:
        """The game API under gunicorn as a process of this stack, started as `make demo` starts it."""
        self.api_url = f"http://127.0.0.1:{free_port()}"
        env = {
            **self.settings.client_env(),
            "QUESTLINE_API_WORKERS": str(workers),
            "QUESTLINE_API_THREADS": "8",
            # Short waits so an outage shows within seconds; the client retries after Retry-After.
            "QUESTLINE_API_PRODUCE_TIMEOUT": "3",
            "QUESTLINE_API_RETRY_AFTER": "1",
            "QUESTLINE_API_READY_CACHE_SECONDS": "0.5",
        }
        demo.start_api(self.settings, CONSOLE, self.api_url, env)
        return self.api_url

    def api_pid(self) -> int | None:
        return process.running_pid(self.settings, "api")

    def start_stream(self) -> None:
        env = {
            **self.settings.client_env(),
            "QUESTLINE_STREAM_TRIGGER_SECONDS": "2",
            "QUESTLINE_SPARK_DRIVER_MEMORY": "768m",
        }
        demo.start_stream(self.settings, CONSOLE, env)

    def stream_pid(self) -> int | None:
        return process.running_pid(self.settings, STREAM)

    # ------------------------------------------------------------ Kafka and Trino
    def end_offsets(self, topic: str = TOPIC_EVENTS) -> dict[int, int]:
        return end_offsets(self.settings, topic)

    def stream_lag(self) -> int | None:
        """Records on Kafka beyond the last micro-batch the streaming job committed (its checkpoint)."""
        checkpoint = urlsplit(self._spark_settings().checkpoint_dir).path
        base = f"http://{self.settings.host}:{self.settings.namenode_http_port}/webhdfs/v1{checkpoint}"
        listing = httpx.get(f"{base}/commits?op=LISTSTATUS", timeout=10)
        if listing.status_code == 404:
            return None  # no batch committed yet
        batches = [
            int(s["pathSuffix"]) for s in listing.json()["FileStatuses"]["FileStatus"] if s["pathSuffix"].isdigit()
        ]
        if not batches:
            return None
        text = httpx.get(f"{base}/offsets/{max(batches)}?op=OPEN", timeout=10, follow_redirects=True).text
        committed = json.loads(text.splitlines()[-1])[TOPIC_EVENTS]
        return sum(end - int(committed.get(str(p), 0)) for p, end in self.end_offsets().items())

    def _spark_settings(self):
        from questline_spark import settings as spark_settings

        saved = dict(os.environ)
        os.environ.update(self.client_env)
        try:
            return spark_settings.load()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def trino(self):
        return queries.connect(analytics_settings.load(self.settings.trino_env("report")))


class Supervisor(threading.Thread):
    """Restarts the streaming job when it exits, as its Kubernetes Deployment does; counts restarts."""

    def __init__(self, stack: IsolatedStack, interval: float = 2.0):
        super().__init__(daemon=True, name="stream-supervisor")
        self.stack = stack
        self.interval = interval
        self.restarts = 0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            if self.stack.stream_pid() is None:
                self.restarts += 1
                self.stack.start_stream()

    def stop(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(10)


class Simulation:
    """questline-loadgen as a subprocess (its own process, as a real client); the ground truth at the end."""

    def __init__(self, api_url: str, workdir: Path, run_id: str, **flags):
        self.ground_truth = workdir / f"{run_id}.json"
        argv = [str(BIN / "questline-loadgen"), "--api-url", api_url, "--run-id", run_id, "--no-progress"]
        argv += ["--ground-truth", str(self.ground_truth), "--no-send-player-host"]
        for name, value in flags.items():
            argv += [f"--{name.replace('_', '-')}", str(value)]
        self.log = workdir / f"{run_id}.log"
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)

    def finish(self, timeout: float) -> dict:
        self.process.wait(timeout)
        assert self.ground_truth.exists(), f"the simulator wrote no ground truth; log:\n{self.log.read_text()[-3000:]}"
        return json.loads(self.ground_truth.read_text())


def settle(stack: IsolatedStack, truth: dict, timeout: float = 600) -> accounting.Accounting:
    """Wait until the tables account for the run (or fail early on a duplicate); print the figures."""
    conn = stack.trino()
    result = accounting.wait_until_caught_up(conn, truth, timeout, interval=3)
    print(f"run {truth['run_id']}: {result.line()}; unknown outcome {len(truth['unknown_event_ids'])}, "
          f"of which in tables {result.unknown_landed}")  # fmt: skip
    return result


def assert_exactly_once(result: accounting.Accounting) -> None:
    assert result.acknowledged > 0, "the run acknowledged nothing: no load was held"
    assert not result.missing, f"{len(result.missing)} acknowledged events missing: {result.missing[:5]}"
    assert not result.duplicated, f"{len(result.duplicated)} event_ids duplicated: {list(result.duplicated)[:5]}"
    assert result.ok, result.problems()


def record_row(table: Path, row: dict) -> None:
    """Append one scenario's figures (JSON lines) for docs/reliability.md."""
    table.parent.mkdir(parents=True, exist_ok=True)
    with open(table, "a") as out:
        out.write(json.dumps(row) + "\n")
