"""The streaming job of spark-apps as the browser tests run it: a process of their own."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

from questline_stack.settings import Settings

STREAM = "stream-events-to-hdfs"


class StreamingJob:
    """`stream-events-to-hdfs` on the real `events` topic, from its end, into a database of its own."""

    def __init__(self, stack: Settings, log_path: Path):
        run = uuid.uuid4().hex[:10]
        self.database = f"questline_web_{run}"
        root = f"{stack.hdfs_uri}/questline-tests/web-{run}"
        self.log_path = log_path
        env = {
            **os.environ,
            **stack.client_env(),
            "QUESTLINE_DATABASE": self.database,
            "QUESTLINE_WAREHOUSE_DIR": f"{root}/warehouse",
            "QUESTLINE_STREAM_CHECKPOINT_DIR": f"{root}/checkpoint",
            "QUESTLINE_STREAM_STARTING_OFFSETS": "latest",
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
