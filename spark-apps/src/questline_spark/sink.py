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
import logging

from pyspark.sql import DataFrame, SparkSession

from questline_spark.tables import TableSpec

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class WrittenBatch:
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

    def table_dir(self, table: str) -> str:
        return f"{self.warehouse_dir}/{table}"

    def ensure_dir(self, path: str) -> None:
        self.fs.mkdirs(self._Path(path))

    def _remove_files_of(self, spec: TableSpec, prefix: str) -> int:
        pattern = f"{self.table_dir(spec.name)}/{spec.partition_column}=*/{prefix}-*"
        stale = self.fs.globStatus(self._Path(pattern)) or []
        for status in stale:
            self.fs.delete(status.getPath(), False)
        return len(stale)

    def write(
        self, frames: dict[str, DataFrame], specs: dict[str, TableSpec], prefix: str, *, replace: bool
    ) -> WrittenBatch:
        """Write every frame into its table under file names starting with `prefix`.

        `replace`: first delete files an earlier attempt of the same batch moved in
        (needed only for the first batch after a restart, the one that may be a retry).
        """
        staging = f"{self.staging_dir}/{prefix}"
        self.fs.delete(self._Path(staging), True)
        for name, frame in frames.items():
            frame.write.mode("overwrite").partitionBy(specs[name].partition_column).parquet(f"{staging}/{name}")
        files: dict[str, int] = {}
        partitions: dict[str, set[str]] = {}
        for name in frames:
            spec = specs[name]
            if replace and (removed := self._remove_files_of(spec, prefix)):
                log.warning("batch %s was attempted before: removed %d of its files from %s", prefix, removed, name)
            moved = self.fs.globStatus(self._Path(f"{staging}/{name}/{spec.partition_column}=*/*.parquet")) or []
            for n, status in enumerate(sorted(moved, key=lambda s: s.getPath().toString())):
                source = status.getPath()
                partition_dir = source.getParent().getName()
                target_dir = self._Path(f"{self.table_dir(name)}/{partition_dir}")
                self.fs.mkdirs(target_dir)
                target = self._Path(target_dir, f"{prefix}-{n:05d}.parquet")
                if not self.fs.rename(source, target):
                    raise OSError(f"could not move {source} to {target} (does the target exist?)")
                partitions.setdefault(name, set()).add(partition_dir.split("=", 1)[1])
            files[name] = len(moved)
        self.fs.delete(self._Path(staging), True)
        return WrittenBatch(files, partitions)
