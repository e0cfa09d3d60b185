"""The one way a partition's files are replaced: rewrite into a hidden generation, swap it in atomically.

Three kinds of rewrite go through it (`Rewrite`): compaction (every row, in a few
large files), erasure (every row but a player's, erasure.py) and retention (no
row at all, then the partition is dropped, retention.py).

Layout of one partition (`<table>/event_date=D/`, the *canonical* directory, where
the streaming and batch jobs always write):

    event_date=D/<writer>-<batch>-<n>.parquet      files the jobs wrote
    event_date=D/_compacted-<gen>/part-<n>.parquet  one compaction's output
    event_date=D/_compacted-<gen>/_manifest.json    the files it replaced, the location before it
    event_date=D/_compaction.lock                   held while a run works on the partition

Names starting with `_` are hidden from Trino (and Spark), so a generation is
invisible until the metastore points the partition at it. One run, per partition:

1. take the partition's lock (an HDFS file created exclusively; a run that finds
   it held skips the partition; a lock not refreshed for the lock timeout is stale);
2. move late files (written into the canonical directory after the partition was
   compacted) into the current generation, and delete what an earlier compaction
   replaced once it has been superseded long enough for running queries to finish;
3. read exactly the listed visible files, write them as `ceil(bytes / target)`
   files into a new hidden generation with its manifest, check the row count;
4. swap the partition's location from the one read in step 1 to the new
   generation with a compare-and-set in the metastore (partition_locations.py).

Killed before 4: the old location still holds every row; the half-written
generation is an orphan the next run deletes. Killed after 4: the new generation
holds every row; the replaced files stay (invisible) until a later run deletes them.
"""

import dataclasses
import datetime as dt
import json
import logging
import math
import time
import uuid
from collections.abc import Callable

from pyspark.sql import Column, Observation, SparkSession
from pyspark.sql import functions as F

from questline_spark.partition_files import GENERATION_PREFIX, LOCK, MANIFEST, SUPERSEDED_DELETED, PartitionFiles
from questline_spark.partition_locations import PartitionLocations
from questline_spark.partition_lock import PartitionLock
from questline_spark.sink import Warehouse
from questline_spark.tables import TableSpec

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Policy:
    target_file_bytes: int  # size of an output file
    min_files: int  # a partition with fewer visible files is left alone
    quiet_seconds: float  # ... and so is one whose newest file is younger
    keep_replaced_seconds: float  # replaced files stay this long after the swap (queries in flight)
    lock_timeout_seconds: float  # a lock not refreshed for this long belongs to a dead run
    include_open: bool  # also compact a quiet partition whose day is not over yet
    pause_before: str = ""  # crash tests only: stop before this stage of a rewrite (PAUSE_STAGES)


# Where a rewrite can be held for a crash test to kill it (QUESTLINE_COMPACT_PAUSE_BEFORE):
# the Spark write, moving its output into the generation, the swap, the lock's release.
PAUSE_STAGES = ("write", "generation", "swap", "release")


@dataclasses.dataclass(frozen=True)
class Rewrite:
    """What a run does to a partition: keep every row (compaction), remove some (erasure), remove all (retention)."""

    kind: str  # compaction | erasure | retention
    removes: Column | None = None  # rows where this is true are not written again; None: none
    expire: bool = False  # retention: no row is kept, and the partition is dropped once the old files are gone
    erasures: tuple[str, ...] = ()  # erasure: the requests served (recorded in the manifest)


COMPACTION = Rewrite("compaction")


@dataclasses.dataclass
class Outcome:
    table: str
    partition: str
    action: str  # compacted | erased | expired | dropped | skipped (why) | lost the swap
    files_before: int = 0
    files_after: int = 0
    bytes_before: int = 0
    bytes_after: int = 0
    rows: int = 0
    rows_removed: int = 0
    late_files_moved: int = 0
    replaced_files_deleted: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.table}/{self.partition}: {self.action}; files {self.files_before} -> {self.files_after}, "
            f"bytes {self.bytes_before} -> {self.bytes_after}, rows {self.rows}, rows removed {self.rows_removed}, "
            f"late files moved {self.late_files_moved}, replaced files deleted {self.replaced_files_deleted}, "
            f"{self.seconds:.1f} s"
        )


class Compactor(PartitionFiles):
    def __init__(
        self,
        spark: SparkSession,
        warehouse: Warehouse,
        locations: PartitionLocations,
        policy: Policy,
        drop_partition: Callable[[TableSpec, str], None] | None = None,
    ):
        self.spark = spark
        self.drop_partition = drop_partition  # unregisters a partition in the metastore (retention)
        self.warehouse = warehouse
        self.fs, self._Path = warehouse.fs, warehouse._Path
        self.locations = locations
        self.policy = policy

    def rewrite_partition(self, spec: TableSpec, partition: str, rewrite: Rewrite = COMPACTION) -> Outcome:
        started = time.monotonic()
        canonical = f"{self.warehouse.table_dir(spec.name)}/{partition}"
        outcome = Outcome(spec.name, partition, "")
        lock = PartitionLock(self.warehouse, f"{canonical}/{LOCK}", self.policy.lock_timeout_seconds)
        if not lock.acquire():
            outcome.action = "skipped (another run holds its lock)"
            return outcome
        try:
            self._rewrite_locked(spec, partition, canonical, lock, outcome, rewrite)
        finally:
            if outcome.action != "dropped":  # a dropped partition's directory, lock included, is gone
                lock.release()
            else:
                lock.abandon()
            outcome.seconds = time.monotonic() - started
        return outcome

    def _current_location(self, spec: TableSpec, partition: str) -> str | None:
        return self.locations.of_table(spec.name).get(partition)

    def _rewrite_locked(self, spec, partition, canonical, lock: PartitionLock, outcome: Outcome, rewrite: Rewrite):
        current = self._current_location(spec, partition)  # read under the lock: the compare-and-set's "expected"
        if current is None:
            outcome.action = "skipped (partition dropped)"
            return
        is_generation = self._Path(current).getName().startswith(GENERATION_PREFIX)
        manifest = self._read_manifest(current) if is_generation else None
        expired = bool(manifest and manifest.get("expired"))
        pending_previous = None
        if manifest is not None:
            replaced = set(manifest["replaced"])
            if not expired:  # an expired partition's late files are expired rows too: never made visible
                outcome.late_files_moved = self._move_late_files(canonical, current, replaced)
            if not self.fs.exists(self._Path(f"{current}/{SUPERSEDED_DELETED}")):
                age = time.time() - manifest["created"]
                if age < self.policy.keep_replaced_seconds + self.policy.lock_timeout_seconds:
                    pending_previous = manifest["previous"]
                else:
                    outcome.replaced_files_deleted = self._delete_replaced(manifest, current)
        self._delete_orphans(canonical, keep={self._path_of(current), self._path_of(pending_previous or current)})
        if expired:
            self._finish_expiry(spec, partition, canonical, pending_previous is not None, rewrite, outcome)
            return
        files = self._visible_files(current)
        outcome.files_before = outcome.files_after = len(files)
        outcome.bytes_before = outcome.bytes_after = sum(s.getLen() for s in files)
        wanted = max(1, math.ceil(outcome.bytes_before / self.policy.target_file_bytes))
        newest_age = time.time() - max((s.getModificationTime() for s in files), default=0) / 1000
        day_over = dt.date.fromisoformat(partition.split("=", 1)[1]) < dt.datetime.now(dt.UTC).date()
        if pending_previous is not None:
            outcome.action = "skipped (files of the last swap not yet deleted)"
        elif rewrite.kind == "retention":
            self._rewrite(spec, partition, canonical, current, files, wanted, lock, outcome, rewrite)
        elif rewrite.kind == "erasure" and (not day_over or newest_age < self.policy.quiet_seconds):
            # The jobs write into the canonical directory: after a swap, today's new rows would be
            # invisible until the next run. So an open day is erased once it is over and quiet.
            outcome.action = "skipped (its day is not over and quiet yet)"
        elif rewrite.kind == "erasure":
            self._rewrite(spec, partition, canonical, current, files, wanted, lock, outcome, rewrite)
        elif len(files) < self.policy.min_files or len(files) <= wanted:
            outcome.action = f"skipped ({len(files)} files)"
        elif not day_over and not self.policy.include_open:
            outcome.action = "skipped (its day is not over)"
        elif newest_age < self.policy.quiet_seconds:
            outcome.action = f"skipped (newest file {newest_age:.0f} s old)"
        else:
            self._rewrite(spec, partition, canonical, current, files, wanted, lock, outcome, rewrite)

    def _finish_expiry(self, spec, partition, canonical, pending: bool, rewrite: Rewrite, outcome: Outcome) -> None:
        """An expired partition (its location an empty generation): dropped once its old files are deleted.

        Unregistered first, then the directory goes: a job that registers partition
        directories in between (`sync_partition_metadata` at start) would register an
        empty one, which the check after the delete unregisters again.
        """
        if not rewrite.expire:
            outcome.action = "skipped (expired)"
        elif pending:
            outcome.action = "skipped (expired; its files are deleted after the grace period)"
        elif self.drop_partition is None:
            raise RuntimeError(f"{spec.name}/{partition}: expired, but no way to drop partitions was given")
        else:
            self.drop_partition(spec, partition)
            self.fs.delete(self._Path(canonical), True)
            if self._current_location(spec, partition) is not None:
                self.drop_partition(spec, partition)
            outcome.action = "dropped"

    def _delete_replaced(self, manifest: dict, current: str) -> int:
        deleted = sum(bool(self.fs.delete(self._Path(path), False)) for path in manifest["replaced"])
        previous = manifest["previous"]
        if self._Path(previous).getName().startswith(GENERATION_PREFIX):
            # Everything visible in it was replaced; move anything else out before removing it.
            self._move_late_files(previous, current, set(manifest["replaced"]))
            self.fs.delete(self._Path(previous), True)
        self._write(f"{current}/{SUPERSEDED_DELETED}", b"")
        return deleted

    def _delete_orphans(self, canonical: str, keep: set[str]) -> None:
        """Generations that never became the location: a run died before its swap."""
        for status in self.fs.listStatus(self._Path(canonical)):
            path = status.getPath()
            too_young = time.time() * 1000 - status.getModificationTime() < self.policy.lock_timeout_seconds * 1000
            if not path.getName().startswith(GENERATION_PREFIX) or path.toUri().getPath() in keep or too_young:
                continue
            log.warning("deleting %s: a compaction that never swapped it in", path)
            self.fs.delete(path, True)

    def _rewrite(self, spec, partition, canonical, current, files, wanted, lock, outcome: Outcome, rewrite: Rewrite):
        generation_name = f"{GENERATION_PREFIX}{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        generation = f"{canonical}/{generation_name}"
        rows_read = rows_removed = 0
        log.info("%s %s/%s: rewriting %d files into %s", rewrite.kind, spec.name, partition, len(files), generation)
        self._pause("write")
        if rewrite.expire:
            written = []  # an empty generation: the partition's rows disappear in one swap
        else:
            rows_read, rows_removed, written, staging = self._write_rows(spec, generation_name, files, wanted, rewrite)
        self._pause("generation")
        self.fs.mkdirs(self._Path(generation))
        for n, status in enumerate(sorted(written, key=lambda s: s.getPath().getName())):
            if not self.fs.rename(status.getPath(), self._Path(f"{generation}/part-{n:05d}.parquet")):
                raise OSError(f"could not move {status.getPath()} into {generation}")
        if not rewrite.expire:
            self.fs.delete(self._Path(staging), True)
        manifest = {
            "kind": rewrite.kind,
            "replaced": [s.getPath().toUri().getPath() for s in files],
            "previous": current,
            "rows": rows_read - rows_removed,
            "rows_removed": rows_removed,
            "erasures": list(rewrite.erasures),
            "expired": rewrite.expire,
            "created": time.time(),
        }
        self._write(f"{generation}/{MANIFEST}", json.dumps(manifest).encode())
        # The new location keeps the stored form of the old one (scheme, authority).
        stored_canonical = (
            current
            if not self._Path(current).getName().startswith(GENERATION_PREFIX)
            else (self._Path(current).getParent().toString())
        )
        new_location = f"{stored_canonical.rstrip('/')}/{generation_name}"
        self._pause("swap")
        if not lock.held() or not self.locations.swap(spec.name, partition, current, new_location):
            self.fs.delete(self._Path(generation), True)
            outcome.action = "lost the swap (another run changed the partition); its output deleted"
            return
        outcome.action = {"compaction": "compacted", "erasure": "erased", "retention": "expired"}[rewrite.kind]
        outcome.rows, outcome.rows_removed = rows_read - rows_removed, rows_removed
        after = self._visible_files(generation)
        outcome.files_after, outcome.bytes_after = len(after), sum(s.getLen() for s in after)
        if not rewrite.expire:
            # Files the jobs added to the canonical directory while this run rewrote it.
            outcome.late_files_moved += self._move_late_files(canonical, generation, set(manifest["replaced"]))
        log.info("%s %s/%s: swapped to %s", rewrite.kind, spec.name, partition, generation_name)
        self._pause("release")

    def _pause(self, stage: str) -> None:
        if self.policy.pause_before == stage:
            log.warning("paused before %s (QUESTLINE_COMPACT_PAUSE_BEFORE is set: crash tests only)", stage)
            time.sleep(3600)

    def _write_rows(self, spec, generation_name, files, wanted, rewrite: Rewrite):
        """Read exactly `files`, write the rows `rewrite` keeps into staging; check the count."""
        staging = f"{self.warehouse.staging_dir}/compact-{spec.name}-{generation_name}"
        observation = Observation(f"rewrite-{generation_name}")
        # A null condition (e.g. a null player_id) removes nothing.
        removes = F.coalesce(rewrite.removes, F.lit(False)) if rewrite.removes is not None else F.lit(False)
        (
            self.spark.read.schema(spec.columns)
            .parquet(*[s.getPath().toString() for s in files])
            .observe(observation, F.count(F.lit(1)).alias("rows"), F.count_if(removes).alias("removed"))
            .where(~removes)
            .coalesce(wanted)
            .write.mode("overwrite")
            .parquet(staging)
        )
        rows_read, rows_removed = int(observation.get["rows"]), int(observation.get["removed"])
        written = self.fs.globStatus(self._Path(f"{staging}/*.parquet")) or []
        rows_written = self.spark.read.parquet(*[s.getPath().toString() for s in written]).count() if written else 0
        if rows_written != rows_read - rows_removed:
            self.fs.delete(self._Path(staging), True)
            raise RuntimeError(
                f"{spec.name}: read {rows_read} rows, removed {rows_removed}, but wrote {rows_written}; nothing swapped"
            )
        return rows_read, rows_removed, written, staging

    # ------------------------------------------------------------------ tables
    def compact(self, specs: dict[str, TableSpec]) -> list[Outcome]:
        outcomes = []
        for spec in specs.values():
            for partition in sorted(self.locations.of_table(spec.name)):
                outcome = self.rewrite_partition(spec, partition)
                log.info("compaction %s", outcome.line())
                outcomes.append(outcome)
        return outcomes
