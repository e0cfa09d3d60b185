"""The per-partition lock every rewrite of a partition takes (compaction, erasure, retention).

An HDFS file created exclusively (`<partition>/_compaction.lock`) holding its owner's
id; the holder refreshes its modification time from a thread every timeout / 4. A
run that finds it held skips the partition; one not refreshed for the timeout
belongs to a dead run and is broken. `held` is checked right before a swap.
"""

import logging
import threading
import time
import uuid

from py4j.protocol import Py4JJavaError

from questline_spark.sink import Warehouse

log = logging.getLogger(__name__)


class PartitionLock:
    """An exclusive HDFS file; a live holder refreshes its modification time from a thread."""

    def __init__(self, warehouse: Warehouse, path: str, timeout_seconds: float):
        self.fs, self._Path = warehouse.fs, warehouse._Path
        self._io = warehouse.spark.sparkContext._jvm.org.apache.commons.io.IOUtils
        self.path = self._Path(path)
        self.owner = uuid.uuid4().hex
        self.timeout_ms = int(timeout_seconds * 1000)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _create(self) -> bool:
        try:
            out = self.fs.create(self.path, False)
        except Py4JJavaError as exc:
            # Created (or still being created: its HDFS lease is another client's) by another run.
            if "FileAlreadyExistsException" in str(exc) or "AlreadyBeingCreatedException" in str(exc):
                return False
            raise
        out.write(bytearray(self.owner.encode()))
        out.close()
        return True

    def acquire(self) -> bool:
        if self._create():
            self._start_refreshing()
            return True
        try:
            age_ms = time.time() * 1000 - self.fs.getFileStatus(self.path).getModificationTime()
        except Py4JJavaError:
            age_ms = 0  # released meanwhile: another run is done or starting; let it be
        if age_ms < self.timeout_ms:
            return False
        log.warning("%s was last refreshed %.0f s ago: breaking the stale lock", self.path, age_ms / 1000)
        self.fs.delete(self.path, False)
        if self._create():
            self._start_refreshing()
            return True
        return False

    def _start_refreshing(self) -> None:
        def refresh() -> None:
            while not self._stop.wait(self.timeout_ms / 4000):
                try:
                    self.fs.setTimes(self.path, int(time.time() * 1000), -1)
                except Exception:  # a lost lock is found by `held` before the swap
                    log.warning("could not refresh %s", self.path)

        self._thread = threading.Thread(target=refresh, name="compaction-lock", daemon=True)
        self._thread.start()

    def held(self) -> bool:
        try:
            stream = self.fs.open(self.path)
        except Py4JJavaError:
            return False
        try:  # through IOUtils: py4j copies a Python buffer, so a Java read into it is lost
            return self._io.toString(stream, "UTF-8") == self.owner
        finally:
            stream.close()

    def abandon(self) -> None:
        """Stop refreshing a lock whose file went with its directory (a dropped partition)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.held():
            self.fs.delete(self.path, False)
