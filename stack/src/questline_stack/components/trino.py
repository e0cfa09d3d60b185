"""Trino: one server that is coordinator and worker, with a Hive catalog (named by
QUESTLINE_TRINO_CATALOG) over the metastore and HDFS. Runs from the trino-server tarball, unpacked without the
connectors we do not use."""

import json
import urllib.request
from pathlib import Path

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component

# What the server needs to boot (launcher, core jars, the launcher's secrets
# plugin) plus the one connector we use; the other ~50 plugins are ~1.2 GB.
_UNPACKED_PARTS = ("bin/", "lib/", "secrets-plugin/", "plugin/hive/")

# Trino's recommended jvm.config, fitted to a laptop-sized heap and Java 25:
# - no InitialRAMPercentage/MaxRAMPercentage: -Xmx from settings is the budget;
# - G1HeapRegionSize 4M instead of 32M: 32M regions would leave a 1 GiB heap with
#   32 regions; 4M keeps 256-512 regions while large pages stay non-humongous;
# - ReservedCodeCacheSize 256M as in the official image (512M is for big clusters);
# - no GCLockerRetryAllocationCount: Java 25 no longer has that option;
# - user.timezone=UTC so timestamps read the same here and in the pods;
# - native access and sun.misc.Unsafe allowed explicitly: Trino's libraries (JNA,
#   JOL) use both, and Java 25 otherwise fills the log with warnings about it.
_JVM_OPTIONS = """\
-server
-Xmx{heap}
-XX:G1HeapRegionSize=4M
-XX:+ExplicitGCInvokesConcurrent
-XX:+ExitOnOutOfMemoryError
-XX:+HeapDumpOnOutOfMemoryError
-XX:HeapDumpPath={data_dir}
-XX:-OmitStackTraceInFastThrow
-XX:ReservedCodeCacheSize=256M
-XX:PerMethodRecompilationCutoff=10000
-XX:PerBytecodeRecompilationCutoff=10000
-Djdk.attach.allowAttachSelf=true
-Djdk.nio.maxCachedBufferSize=2000000
-Dfile.encoding=UTF-8
-Duser.timezone=UTC
-XX:+EnableDynamicAgentLoading
-XX:+UnlockDiagnosticVMOptions
-XX:G1NumCollectionsKeepPinned=10000000
--enable-native-access=ALL-UNNAMED
--sun-misc-unsafe-memory-access=allow
"""

_HDFS_SITE = """\
<?xml version="1.0"?>
<configuration>
  <property><name>fs.defaultFS</name><value>{hdfs_uri}</value></property>
  <!-- One DataNode: files Trino writes would otherwise stay under-replicated. -->
  <property><name>dfs.replication</name><value>1</value></property>
</configuration>
"""


def _heap_mib(heap: str) -> int:
    amount, unit = int(heap[:-1]), heap[-1]
    return amount * 1024 if unit == "g" else amount


def _properties(values: dict[str, object]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())


class Trino(Component):
    name = "trino"
    processes = ("trino",)

    @property
    def _version(self) -> str:
        return versions()["trino"]["version"]

    @property
    def _archive(self) -> Path:
        return self.s.cache_dir / "downloads" / f"trino-server-{self._version}.tar.gz"

    @property
    def _install_dir(self) -> Path:
        # The tarball's members all sit under trino-server-<version>/.
        return self.s.cache_dir / f"trino-server-{self._version}" / f"trino-server-{self._version}"

    @property
    def _etc(self) -> Path:
        return self.state_home / "etc"

    @property
    def _data_dir(self) -> Path:
        return self.state_home / "data"

    def fetch(self) -> None:
        url = artifacts.maven_url(f"io.trino:trino-server:{self._version}", ext="tar.gz")
        artifacts.download(url, self._archive)
        top = f"trino-server-{self._version}/"
        artifacts.unpack(
            self._archive, self._install_dir.parent, members_prefixes=tuple(top + part for part in _UNPACKED_PARTS)
        )

    def _write_config(self) -> None:
        s = self.s
        heap = _heap_mib(s.trino_heap)
        catalog = self._etc / "catalog"
        catalog.mkdir(parents=True, exist_ok=True)
        for stale in catalog.glob("*.properties"):  # a catalog renamed since the last start
            stale.unlink()
        self._data_dir.mkdir(parents=True, exist_ok=True)
        (self._etc / "node.properties").write_text(
            _properties(
                {
                    "node.environment": "questline",
                    "node.id": "questline-local",
                    "node.data-dir": self._data_dir,
                    # Announce the loopback address, not the machine's first interface.
                    "node.internal-address": self.s.host,
                }
            )
        )
        (self._etc / "jvm.config").write_text(_JVM_OPTIONS.format(heap=s.trino_heap, data_dir=self._data_dir))
        (self._etc / "config.properties").write_text(
            _properties(
                {
                    "coordinator": "true",
                    "node-scheduler.include-coordinator": "true",
                    "http-server.http.port": s.trino_port,
                    "discovery.uri": s.trino_url,
                    # One node: a query may use 40% of the heap, and 30% stays free for
                    # everything that is not tracked (Trino checks the sum fits the heap).
                    "query.max-memory": f"{heap * 4 // 10}MB",
                    "query.max-memory-per-node": f"{heap * 4 // 10}MB",
                    "memory.heap-headroom-per-node": f"{heap * 3 // 10}MB",
                }
            )
        )
        (self._etc / "hdfs-site.xml").write_text(_HDFS_SITE.format(hdfs_uri=s.hdfs_uri))
        (catalog / f"{s.trino_catalog}.properties").write_text(
            _properties(
                {
                    "connector.name": "hive",
                    "hive.metastore.uri": s.metastore_uri,
                    "fs.hadoop.enabled": "true",
                    "hive.config.resources": self._etc / "hdfs-site.xml",
                    # Spark registers new partitions while Trino reads: never serve a stale listing.
                    "hive.metastore-cache-ttl": "0s",
                    # Our tables are external tables that Spark owns; Trino may still write to them
                    # (INSERT in checks and tests).
                    "hive.non-managed-table-writes-enabled": "true",
                    # Read files in subdirectories of a partition too (e.g. one directory per batch);
                    # hidden entries such as Spark's _temporary and _SUCCESS are still skipped.
                    "hive.recursive-directories": "true",
                    # Spark writes legacy INT96 timestamps in UTC; read them back in UTC.
                    "hive.parquet.time-zone": "UTC",
                }
            )
        )

    def start(self) -> None:
        if process.running_pid(self.s, "trino") is None:
            self._write_config()
            # The launcher keeps its own pid file; a stale one (after a kill) must not stop it.
            (self._data_dir / "var" / "run" / "launcher.pid").unlink(missing_ok=True)
            process.spawn(
                self.s,
                "trino",
                [
                    str(self._install_dir / "bin" / "launcher"),
                    "run",
                    f"--etc-dir={self._etc}",
                    f"--data-dir={self._data_dir}",
                ],
                env={"JAVA_HOME": str(self.s.trino_java_home)},
                cwd=self.state_home,
            )
        process.wait_until(self.s, "trino", self.ready)

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.s.trino_url}/v1/info", timeout=5) as resp:
            if json.load(resp)["starting"]:
                return False
        return self.query("SELECT 1") == [[1]]

    def query(self, sql: str) -> list[list[object]]:
        """Run one statement with the trino client and return all rows."""
        from questline_settings.trino import connect

        with connect(self.s.trino_url, user="questline", request_timeout=30) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            return cursor.fetchall()
