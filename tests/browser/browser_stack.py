"""The streaming job of spark-apps as the browser tests run it: a process of their own."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from questline_events import TRINO_PIPELINE_USER
from questline_stack.scratch import Scratch
from questline_stack.settings import Settings

STREAM = "stream-events-to-hdfs"


class StreamingJob:
    """`stream-events-to-hdfs` from the start of a topic of its own into a database of its own."""

    def __init__(self, stack: Settings, scratch: Scratch, log_path: Path):
        self.database = scratch.database
        self.log_path = log_path
        env = {
            **os.environ,
            **stack.client_env(),
            **stack.trino_env(TRINO_PIPELINE_USER),
            **scratch.env,
            "QUESTLINE_STREAM_STARTING_OFFSETS": "earliest",
            "QUESTLINE_STREAM_TRIGGER_SECONDS": "2",
            "QUESTLINE_SPARK_DRIVER_MEMORY": "768m",
        }
        with open(log_path, "wb") as log:
            # Own process group: the Python driver and its JVM stop together.
            self.process = subprocess.Popen(
                [Path(sys.executable).parent / STREAM],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def failure(self) -> str | None:
        """Why the job is not running (its log's tail), or None while it runs."""
        if self.process.poll() is None:
            return None
        tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-30:])
        return f"{STREAM} exited with {self.process.returncode}; {self.log_path}:\n{tail}"

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)
