"""Fixtures of the fault-injection tests: one private stack per session, with the API and the
streaming job running on it, torn down (`down --purge`) at the end."""

import os
import sys
import time
import uuid
from pathlib import Path

import pytest
from faultlib import CONSOLE, REPO, IsolatedStack, Supervisor

from questline_demo import driver as demo

# The game API's test helpers (gunicorn runner, topic reader) are reused, not rewritten.
sys.path.insert(0, str(REPO / "services" / "game-api" / "tests"))

# Figures of every scenario, one JSON line each; docs/reliability.md is written from them.
RESULTS = Path(os.environ.get("QUESTLINE_FAULTS_RESULTS", REPO / "artifacts" / "reliability" / "results.jsonl"))


# pytest retries a failed session fixture for every test; one failed start is enough.
_failed_start: list[str] = []


@pytest.fixture(scope="session")
def faults_stack():
    """A whole stack of our own (free ports, own state dir, small heaps) + API + supervised streaming job."""
    if _failed_start:
        pytest.fail(f"the private stack did not start (see the first error): {_failed_start[0]}", pytrace=False)
    stack = IsolatedStack()
    supervisor = Supervisor(stack)
    try:
        try:
            stack.up()
        except AssertionError as exc:
            _failed_start.append(str(exc).splitlines()[-1])
            raise
        stack.start_api()
        stack.start_stream()
        supervisor.start()
        stack.supervisor = supervisor
        # One event through API -> Kafka -> Spark -> HDFS -> Trino: the pipeline is live.
        seconds = demo.probe_pipeline(stack.settings, CONSOLE, stack.trino(), stack.api_url, 600)
        print(f"private stack in {stack.state_dir}: pipeline live, probe visible after {seconds:.0f}s")
        yield stack
    finally:
        try:
            supervisor.stop()
        finally:
            stack.down()


@pytest.fixture
def run_id():
    """Player ids of one simulator run start with it (letters and digits only)."""
    return "f" + time.strftime("%H%M%S") + uuid.uuid4().hex[:6]


@pytest.fixture(scope="session")
def results_file():
    return RESULTS
