"""Helpers of the browser tests that the tests themselves call (fixtures live in conftest.py)."""

from questline_stack import process
from questline_stack.settings import Settings

# The streaming job's name in the stack's process registry (as `make demo` names it).
STREAM = "stream-events-to-hdfs"


def streaming_job_failure(stack: Settings) -> str | None:
    """Why the streaming job is not running (its log's tail), or None while it runs."""
    if process.running_pid(stack, STREAM) is not None:
        return None
    log = process.log_file(stack, STREAM)
    return f"the streaming job is not running; {log}:\n{process.tail(log)}"
