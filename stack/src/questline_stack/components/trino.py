"""Trino: one server that is coordinator and worker, with a Hive catalog (named by
QUESTLINE_TRINO_CATALOG) over the metastore and HDFS. Runs from the trino-server tarball, unpacked without the
connectors we do not use. Clients log in over HTTPS with a password and file-based rules decide
what they may do (components/trino_auth.py, docs/security.md)."""

import json
import ssl
import urllib.request
from pathlib import Path

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component
from questline_stack.components.trino_auth import TrinoAuth

# What the server needs to boot (launcher, core jars, the launcher's secrets
# plugin) plus the one connector we use; the other ~50 plugins are ~1.2 GB.
_UNPACKED_PARTS = ("bin/", "lib/", "secrets-plugin/", "plugin/hive/")
# The password file authenticator, unpacked on its own beside the server (an install unpacked
# before authentication existed stays as it is); both reach Trino through the state's plugin dir.
_AUTH_PLUGIN = "plugin/password-authenticators/"

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


def _text(path: Path) -> str:
    return path.read_text() if path.is_file() else ""


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

    @property
    def _auth_plugin_dir(self) -> Path:
        return (
            self.s.cache_dir / f"trino-server-{self._version}-password-authenticators"
            / f"trino-server-{self._version}" / _AUTH_PLUGIN
        )  # fmt: skip

    @property
    def _plugin_dir(self) -> Path:
        return self.state_home / "plugin"

    def fetch(self) -> None:
        url = artifacts.maven_url(f"io.trino:trino-server:{self._version}", ext="tar.gz")
        artifacts.download(url, self._archive)
        top = f"trino-server-{self._version}/"
        artifacts.unpack(
            self._archive, self._install_dir.parent, members_prefixes=tuple(top + part for part in _UNPACKED_PARTS)
        )
        artifacts.unpack(self._archive, self._auth_plugin_dir.parents[2], members_prefixes=(top + _AUTH_PLUGIN,))

    def _link_plugins(self) -> None:
        self._plugin_dir.mkdir(parents=True, exist_ok=True)
        for target in (self._install_dir / "plugin" / "hive", self._auth_plugin_dir):
            link = self._plugin_dir / target.name
            if link.is_symlink() and link.readlink() == target:
                continue
            link.unlink(missing_ok=True)
            link.symlink_to(target, target_is_directory=True)

    def _write_config(self) -> None:
        s = self.s
        auth = TrinoAuth(s)
        auth.ensure()
        self._link_plugins()
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
                    "plugin.dir": self._plugin_dir,
                    # HTTP stays for Trino itself (discovery, node to node, signed with the shared
                    # secret) and /v1/info; with password authentication on, Trino refuses any
                    # user there. Clients query over HTTPS.
                    "http-server.http.port": s.trino_port,
                    "discovery.uri": s.trino_http_url,
                    "http-server.https.enabled": "true",
                    "http-server.https.port": s.trino_https_port,
                    "http-server.https.keystore.path": auth.server_pem,
                    "http-server.authentication.type": "PASSWORD",
                    # Read from the environment the launcher is given, so it is in no file but its own.
                    "internal-communication.shared-secret": "${ENV:TRINO_SHARED_SECRET}",
                    # One node: a query may use 40% of the heap, and 30% stays free for
                    # everything that is not tracked (Trino checks the sum fits the heap).
                    "query.max-memory": f"{heap * 4 // 10}MB",
                    "query.max-memory-per-node": f"{heap * 4 // 10}MB",
                    "memory.heap-headroom-per-node": f"{heap * 3 // 10}MB",
                }
            )
        )
        (self._etc / "password-authenticator.properties").write_text(
            _properties({"password-authenticator.name": "file", "file.password-file": auth.password_db})
        )
        (self._etc / "access-control.properties").write_text(
            _properties(
                {"access-control.name": "file", "security.config-file": auth.rules, "security.refresh-period": "5s"}
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
        config = self._etc / "config.properties"
        if process.running_pid(self.s, "trino") is not None and "PASSWORD" not in _text(config):
            # Started before Trino had users (issue 20): its clients now log in over HTTPS.
            process.stop(self.s, "trino")
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
                env={
                    "JAVA_HOME": str(self.s.trino_java_home),
                    "TRINO_SHARED_SECRET": TrinoAuth(self.s).shared_secret(),
                },
                cwd=self.state_home,
            )
        process.wait_until(self.s, "trino", self.ready)

    def ready(self) -> bool:
        context = ssl.create_default_context(cafile=self.s.trino_ca_file)
        with urllib.request.urlopen(f"{self.s.trino_url}/v1/info", timeout=5, context=context) as resp:
            if json.load(resp)["starting"]:
                return False
        return self.query("SELECT 1") == [[1]]

    def query(self, sql: str) -> list[list[object]]:
        """Run one statement as the pipeline user (it may write) and return all rows."""
        with self.s.trino_connect(request_timeout=30) as conn:
            cursor = conn.cursor()
            cursor.execute(sql)
            return cursor.fetchall()
