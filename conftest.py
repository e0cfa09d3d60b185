"""Fixtures shared by every test directory.

Tests marked `stack` talk to the real local stack. The fixtures below start it
through the same CLI a person uses (`questline-stack up`), once per session, and
leave it running: starting is idempotent, and `make stack-down` stops it.

Tests never write to the user's data, the `events` topic and the `questline` tables:
each run writes to a topic, a database and an HDFS directory of its own
(questline_stack.scratch.Scratch; the `scratch` fixture), removed after it. The data
guard below proves it: it reads the topic's end offsets and the tables' row counts when
the session starts (or, if the stack is down then, as soon as a fixture here starts it)
and fails the session if they differ at its end. At the end it also removes whatever
runs that are over left behind (questline_stack.scratch.sweep).
"""

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
STACK_CLI = [sys.executable, "-m", "questline_stack.cli"]


class DataGuard:
    """The user's data at the start of the session against the same at its end."""

    def __init__(self):
        self.settings = None
        self.started = False  # a fixture here started (or reused) the stack: tests ran on it
        self.before: dict[str, dict | None] = {"topic": None, "tables": None}
        self.lines: list[str] = []
        self.failed = False

    def observe(self, settings) -> None:
        """Read whatever part of the user's data is not read yet and can be read now."""
        from questline_stack.scratch import snapshot

        if all(value is not None for value in self.before.values()):
            return
        now = snapshot(settings)
        if now["topic"] is None and now["tables"] is None:
            return
        self.settings = settings
        for part, value in now.items():
            if self.before[part] is None:
                self.before[part] = value

    def finish(self) -> None:
        from questline_stack.scratch import snapshot, sweep

        if self.settings is None:
            self.lines.append("skipped: the local stack was not running and no test started it")
            return
        # Only a session that ran tests on the stack cleans it: `make test-unit` changes nothing.
        removed = sweep(self.settings, including_pid=os.getpid()) if self.started else []
        if removed:
            self.lines.append(f"removed what finished runs left behind: {', '.join(removed)}")
        after = snapshot(self.settings)
        what = {"topic": "end offsets of the `events` topic", "tables": "row counts of the `questline` tables"}
        for part, before in self.before.items():
            if before is None:
                self.lines.append(f"{what[part]}: not checked (that server never ran during the session)")
            elif after[part] is None:
                self.failed = True
                self.lines.append(f"{what[part]}: FAILED, {before} at the start, unreadable at the end (stopped?)")
            elif after[part] != before:
                self.failed = True
                self.lines.append(f"{what[part]}: FAILED, a test wrote there: {before} at the start, {after[part]} now")
            else:
                self.lines.append(f"{what[part]}: unchanged {before}")


GUARD = DataGuard()


def pytest_sessionstart(session):
    from questline_settings import SettingsError
    from questline_stack.settings import load

    with contextlib.suppress(SettingsError):  # a bad stack setting fails the stack fixtures with its message
        GUARD.observe(load())


def pytest_sessionfinish(session, exitstatus):
    GUARD.finish()
    if GUARD.failed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    terminalreporter.section("the user's data (events topic, questline tables)")
    for line in GUARD.lines:
        terminalreporter.line(line, red="FAILED" in line)


def start_stack(*names: str):
    """`questline-stack up [names]` (all components without names); returns the stack Settings."""
    from questline_stack.settings import load

    result = subprocess.run([*STACK_CLI, "up", *names], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"questline-stack up {' '.join(names)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    settings = load()
    GUARD.observe(settings)  # before any test could write to it
    GUARD.started = True
    os.environ.update(settings.client_env())
    return settings


@pytest.fixture(scope="session")
def stack_up():
    """`stack_up("trino")` starts those components (and what they need) for a test module."""
    return start_stack


@pytest.fixture(scope="session")
def kafka_stack():
    """Only Kafka (enough for the API's tests); returns the stack Settings."""
    return start_stack("kafka")


@pytest.fixture(scope="session")
def local_stack():
    """The whole local stack: PostgreSQL, Kafka, HDFS, Hive metastore, Trino, Spark jars."""
    return start_stack()


@pytest.fixture
def scratch(local_stack, request):
    """A topic, a database and an HDFS directory of this test only, removed after it.
    Fixtures of a wider scope use questline_stack.scratch.Scratch the same way."""
    from questline_stack.scratch import Scratch

    label = "".join(c for c in request.node.module.__name__.rsplit(".", 1)[-1].removeprefix("test_") if c.isalnum())
    with Scratch(local_stack, label[:20] or "test") as names:
        yield names
