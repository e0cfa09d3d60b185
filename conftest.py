"""Fixtures shared by every test directory.

Tests marked `stack` talk to the real local stack. The fixtures below start it
through the same CLI a person uses (`questline-stack up`), once per session, and
leave it running: starting is idempotent, and `make stack-down` stops it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent
STACK_CLI = [sys.executable, "-m", "questline_stack.cli"]


def _stack_up(*names: str):
    from questline_stack.settings import load

    result = subprocess.run([*STACK_CLI, "up", *names], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"questline-stack up {' '.join(names)} failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    settings = load()
    os.environ.update(settings.client_env())
    return settings


@pytest.fixture(scope="session")
def kafka_stack():
    """Only Kafka (enough for the API's tests); returns the stack Settings."""
    return _stack_up("kafka")


@pytest.fixture(scope="session")
def local_stack():
    """The whole local stack: PostgreSQL, Kafka, HDFS, Hive metastore, Trino, Spark jars."""
    return _stack_up()
