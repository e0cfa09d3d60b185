"""The files of a partition's generations, through Hadoop's FileSystem: listing what Trino reads,
manifests, late files, stale staging. The base of compaction.Compactor (the swap itself)."""

import json
import time

from py4j.protocol import Py4JJavaError

from questline_spark.tables import TableSpec

GENERATION_PREFIX = "_compacted-"
MANIFEST = "_manifest.json"
SUPERSEDED_DELETED = "_superseded-deleted"
LOCK = "_compaction.lock"
STALE_STAGING_SECONDS = 24 * 3600


class PartitionFiles:
    """Needs `spark`, `warehouse`, `fs`, `_Path`, `locations` and `policy` (set by Compactor)."""

    def _visible_files(self, directory: str) -> list:
        """Every file Trino reads under `directory`: recursive, hidden names (`_`, `.`) skipped."""
        found = []
        try:
            statuses = self.fs.listStatus(self._Path(directory))
        except Py4JJavaError:
            return found
        for status in statuses:
            name = status.getPath().getName()
            if name.startswith(("_", ".")):
                continue
            if status.isDirectory():
                found += self._visible_files(status.getPath().toString())
            else:
                found.append(status)
        return found

    def _path_of(self, location: str) -> str:
        return self._Path(location).toUri().getPath()

    def _read_manifest(self, generation: str) -> dict:
        io = self.spark.sparkContext._jvm.org.apache.commons.io.IOUtils
        stream = self.fs.open(self._Path(f"{generation}/{MANIFEST}"))
        try:
            return json.loads(io.toString(stream, "UTF-8"))
        finally:
            stream.close()

    def _write(self, path: str, data: bytes) -> None:
        out = self.fs.create(self._Path(path), True)
        out.write(bytearray(data))
        out.close()

    def _move_late_files(self, canonical: str, current: str, replaced: set[str]) -> int:
        """Files the jobs wrote into the canonical directory after it stopped being the location."""
        moved = 0
        for status in self._visible_files(canonical):
            source = status.getPath()
            if source.toUri().getPath() in replaced:
                continue
            target = self._Path(f"{current}/{source.getName()}")
            if self.fs.rename(source, target):
                moved += 1
            elif not self.fs.exists(target):
                raise OSError(f"could not move the late file {source} into {current}")
        return moved

    def delete_stale_staging(self) -> int:
        """Staging output of rewrites that died before their swap: a copy of rows (perhaps an erased
        player's) that nothing else would ever delete. A day old: no live rewrite takes that long."""
        deleted = 0
        for status in self.fs.globStatus(self._Path(f"{self.warehouse.staging_dir}/compact-*")) or []:
            if time.time() - status.getModificationTime() / 1000 > STALE_STAGING_SECONDS:
                deleted += bool(self.fs.delete(status.getPath(), True))
        return deleted

    def pending_erasures(self, specs: dict[str, TableSpec]) -> set[str]:
        """Erasure requests served by a swap whose replaced files (holding the erased rows) still exist."""
        pending: set[str] = set()
        for spec in specs.values():
            for location in self.locations.of_table(spec.name).values():
                if not self._Path(location).getName().startswith(GENERATION_PREFIX):
                    continue
                if not self.fs.exists(self._Path(f"{location}/{SUPERSEDED_DELETED}")):
                    pending.update(self._read_manifest(location).get("erasures", ()))
        return pending
