"""Write a batch of routed rows into the tables so that Trino only ever sees whole batches.

Spark's own file sink is exactly-once only for Spark readers: Trino lists the
files of a partition directory and would read the partial files of a failed
batch. Here each batch is written by Spark into a staging directory outside the
tables, and only then are its finished files renamed into the partition
directories under names that carry the writer and batch id
(`<writer>-<batch>-<n>.parquet`). An HDFS rename is atomic, so a reader sees a
file whole or not at all; a batch that is re-run after a crash first deletes the
files it had already moved under the same names, so it replaces instead of adds.
"""

import dataclasses
import json
import logging

from pyspark.sql import DataFrame, Observation, SparkSession

from questline_spark.tables import TableSpec
from questline_spark.transforms import TARGET_PARTITION, TARGET_TABLE, count_rows

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WrittenBatch:
    rows: dict[str, int]  # table -> rows written
    files: dict[str, int]  # table -> files moved into it
    partitions: dict[str, set[str]]  # table -> partition values that received files


class Warehouse:
    """The table directories in HDFS, handled through Hadoop's FileSystem in the driver JVM."""

    def __init__(self, spark: SparkSession, warehouse_dir: str, staging_dir: str):
        self.spark = spark
        jvm = spark.sparkContext._jvm
        self._Path = jvm.org.apache.hadoop.fs.Path
        self.fs = self._Path(warehouse_dir).getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        self.warehouse_dir = warehouse_dir
        self.staging_dir = staging_dir
        self._loaded_files: dict[str, dict[int, int]] = {}  # path -> its end offsets (files never change)

    def table_dir(self, table: str) -> str:
        return f"{self.warehouse_dir}/{table}"

    def compacted_dirs(self, spec: TableSpec) -> list[str]:
        """The compaction's generation directories of every partition (compaction.py)."""
        pattern = f"{self.table_dir(spec.name)}/{spec.partition_column}=*/_compacted-*"
        return [s.getPath().toString() for s in self.fs.globStatus(self._Path(pattern)) or [] if s.isDirectory()]

    def ensure_dir(self, path: str) -> None:
        self.fs.mkdirs(self._Path(path))

    def _remove_files_of(self, spec: TableSpec, prefix: str) -> int:
        pattern = f"{self.table_dir(spec.name)}/{spec.partition_column}=*/{prefix}-*"
        stale = self.fs.globStatus(self._Path(pattern)) or []
        for status in stale:
            self.fs.delete(status.getPath(), False)
        return len(stale)

    # ------------------------------------------------------------ loaded offsets
    # What the batch job loaded, per topic: one small JSON file per run under
    # `_loaded/<topic>/`, never rewritten, so a reader never sees a half-written one.

    def loaded_dir(self, topic: str) -> str:
        return f"{self.warehouse_dir}/_loaded/{topic}"

    def record_loaded(self, topic: str, name: str, end_offsets: dict[int, int]) -> None:
        """Record that every record of `topic` below `end_offsets` (partition -> offset) is in the tables."""
        data = json.dumps({str(p): o for p, o in sorted(end_offsets.items())}).encode()
        staged = self._Path(f"{self.staging_dir}/{name}.json")
        out = self.fs.create(staged, True)
        out.write(bytearray(data))
        out.close()
        self.fs.mkdirs(self._Path(self.loaded_dir(topic)))
        if not self.fs.rename(staged, self._Path(f"{self.loaded_dir(topic)}/{name}.json")):
            raise OSError(f"could not record the loaded offsets of {topic} under {self.loaded_dir(topic)}")

    def loaded_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset below which the batch job has loaded everything (empty if never run).

        The streaming job asks every micro-batch: one directory listing, and only
        files it has not read before are opened.
        """
        io = self.spark.sparkContext._jvm.org.apache.commons.io.IOUtils
        ends: dict[int, int] = {}
        for status in self.fs.globStatus(self._Path(f"{self.loaded_dir(topic)}/*.json")) or []:
            path = status.getPath().toString()
            if path not in self._loaded_files:
                stream = self.fs.open(status.getPath())
                try:
                    recorded = json.loads(io.toString(stream, "UTF-8"))
                finally:
                    stream.close()
                self._loaded_files[path] = {int(p): offset for p, offset in recorded.items()}
            for partition, offset in self._loaded_files[path].items():
                ends[partition] = max(offset, ends.get(partition, 0))
        return ends

    def write(self, routed: DataFrame, specs: dict[str, TableSpec], prefix: str, *, replace: bool) -> WrittenBatch:
        """Write `transforms.route` output into the tables under file names starting with `prefix`.

        One Spark job computes and writes the rows of every table (and counts them
        on the way), so the input is evaluated once and needs no caching.
        `replace`: first delete files an earlier attempt of the same batch moved in
        (needed only for the first batch after a restart, the one that may be a retry).
        """
        staging = f"{self.staging_dir}/{prefix}"
        self.fs.delete(self._Path(staging), True)
        observation = Observation(f"rows-{prefix}")
        routed.observe(observation, *count_rows()).write.mode("overwrite").partitionBy(
            TARGET_TABLE, TARGET_PARTITION
        ).parquet(staging)
        rows = {name: int(observation.get.get(name, 0)) for name in specs}
        files: dict[str, int] = {}
        partitions: dict[str, set[str]] = {}
        for name, spec in specs.items():
            if replace and (removed := self._remove_files_of(spec, prefix)):
                log.warning("batch %s was attempted before: removed %d of its files from %s", prefix, removed, name)
            pattern = f"{staging}/{TARGET_TABLE}={name}/{TARGET_PARTITION}=*/*.parquet"
            moved = self.fs.globStatus(self._Path(pattern)) or []
            for n, status in enumerate(sorted(moved, key=lambda s: s.getPath().toString())):
                source = status.getPath()
                value = source.getParent().getName().split("=", 1)[1]
                target_dir = self._Path(f"{self.table_dir(name)}/{spec.partition_column}={value}")
                self.fs.mkdirs(target_dir)
                target = self._Path(target_dir, f"{prefix}-{n:05d}.parquet")
                if not self.fs.rename(source, target):
                    raise OSError(f"could not move {source} to {target} (does the target exist?)")
                partitions.setdefault(name, set()).add(value)
            files[name] = len(moved)
        self.fs.delete(self._Path(staging), True)
        return WrittenBatch(rows, files, partitions)
