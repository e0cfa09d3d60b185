"""The Hive metastore (Thrift) from Hive's standalone metastore release, backed by
the local PostgreSQL and keeping its warehouse in the local HDFS.

The release's bin/ scripts insist on a Hadoop installation (HADOOP_HOME and its
`hadoop jar` launcher); we have Hadoop's jars instead, so the schema tool and the
server are started through their Java main classes with the classpath the scripts
would build: configuration, the metastore's own lib/, then Hadoop.
"""

import os
import re
import subprocess
from pathlib import Path

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component
from questline_stack.components.hdfs import WAREHOUSE_DIR, Hdfs, java_argv, site_xml, write_if_changed
from questline_stack.components.postgres import METASTORE_DATABASE, METASTORE_PASSWORD, METASTORE_USER, Postgres

_SERVER_MAIN = "org.apache.hadoop.hive.metastore.HiveMetaStore"
_SCHEMA_TOOL_MAIN = "org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool"
# HiveMetaStore logs this once its Thrift server accepts calls.
_STARTED_LINE = "Started the new metaserver on port"

# Hadoop's log4j 1 binding would compete with the metastore's log4j 2 binding
# (the metastore ships log4j-1.2-api for code that logs through log4j 1).
_HADOOP_JARS_LEFT_OUT = ("reload4j", "slf4j-reload4j")

_JAR_NAME = re.compile(r"^(?P<artifact>.+?)-\d[^-]*(?:-.+)?\.jar$")


def _artifact(jar: Path) -> str:
    match = _JAR_NAME.match(jar.name)
    return match["artifact"] if match else jar.stem


class HiveMetastore(Component):
    name = "metastore"
    processes = ("metastore",)

    @property
    def version(self) -> str:
        return versions()["hive_metastore"]["version"]

    @property
    def coord(self) -> str:
        return f"org.apache.hive:hive-standalone-metastore-server:{self.version}"

    @property
    def added_jar_coords(self) -> list[str]:
        """Single jars added to the release's lib/: the pinned PostgreSQL driver and
        what Hadoop 3.5 no longer brings (versions.toml [hive_metastore].hadoop_gap_jars)."""
        driver = f"org.postgresql:postgresql:{versions()['postgresql']['jdbc_driver']}"
        return [driver, *versions()["hive_metastore"]["hadoop_gap_jars"]]

    @property
    def release_dir(self) -> Path:
        return self.s.cache_dir / f"hive-metastore-{self.version}"

    @property
    def home(self) -> Path:
        """The unpacked release (METASTORE_HOME: bin/, lib/, scripts/)."""
        return self.release_dir / f"apache-hive-metastore-{self.version}-bin"

    @property
    def added_jars(self) -> list[Path]:
        return [self.s.cache_dir / "jars" / Path(artifacts.maven_url(c)).name for c in self.added_jar_coords]

    @property
    def conf_dir(self) -> Path:
        return self.state_home / "conf"

    def fetch(self) -> None:
        archive = artifacts.download(
            artifacts.maven_url(self.coord, ext="tar.gz", classifier="bin"),
            self.s.cache_dir / "downloads" / f"hive-standalone-metastore-server-{self.version}-bin.tar.gz",
        )
        artifacts.unpack(archive, self.release_dir)
        for coord, jar in zip(self.added_jar_coords, self.added_jars, strict=True):
            artifacts.download(artifacts.maven_url(coord), jar)
        Hdfs(self.s).fetch()

    def classpath(self) -> list[Path]:
        # The release bundles an older PostgreSQL driver; the pinned one replaces it.
        own = [jar for jar in sorted((self.home / "lib").glob("*.jar")) if _artifact(jar) != "postgresql"]
        taken = {_artifact(jar) for jar in own} | set(_HADOOP_JARS_LEFT_OUT)
        # Like the release's scripts (HADOOP_USER_CLASSPATH_FIRST): the metastore's
        # libraries win over Hadoop's; duplicates are dropped rather than shadowed.
        hadoop = [jar for jar in Hdfs(self.s).classpath() if _artifact(jar) not in taken]
        return [self.conf_dir, *self.added_jars, *own, *hadoop]

    def _write_config(self) -> None:
        s = self.s
        properties = {
            "javax.jdo.option.ConnectionDriverName": "org.postgresql.Driver",
            "javax.jdo.option.ConnectionURL": Postgres(s).jdbc_url,
            "javax.jdo.option.ConnectionUserName": METASTORE_USER,
            "javax.jdo.option.ConnectionPassword": METASTORE_PASSWORD,
            "metastore.thrift.bind.host": s.host,
            "metastore.thrift.port": str(s.metastore_port),
            "metastore.warehouse.dir": f"{s.hdfs_uri}{WAREHOUSE_DIR}",
            "fs.defaultFS": s.hdfs_uri,
            # The schema comes from schematool only; a mismatch must stop the server.
            "metastore.schema.verification": "true",
            # Spark and Trino read the notification log without being metastore admins.
            "hive.metastore.event.db.notification.api.auth": "false",
            # Hive's default needs hive-exec (not in the standalone release), as the
            # release's own metastore-site.xml says.
            "metastore.expression.proxy": "org.apache.hadoop.hive.metastore.DefaultPartitionExpressionProxy",
            "metastore.task.threads.always": "org.apache.hadoop.hive.metastore.events.EventCleanerTask",
            # Asynchronous logging needs the LMAX disruptor, which the release does not ship.
            "metastore.async.log.enabled": "false",
        }
        write_if_changed(self.conf_dir / "metastore-site.xml", site_xml(properties))
        # HiveMetaStore configures its logging from this file on its classpath.
        log_config = (self.home / "conf" / "metastore-log4j2.properties").read_text()
        write_if_changed(self.conf_dir / "metastore-log4j2.properties", log_config)

    def _java(self, main: str, *args: str) -> list[str]:
        tmp_dir = self.state_home / "tmp"
        argv = java_argv(self.s.java_home, self.s.metastore_heap, tmp_dir, self.classpath(), main, *args)
        # Log to the console (logs/metastore.log) instead of a file under /tmp.
        return [argv[0], "-Dmetastore.root.logger=console", *argv[1:]]

    def _env(self) -> dict[str, str]:
        return {
            "JAVA_HOME": str(self.s.java_home),
            "METASTORE_HOME": str(self.home),
            "METASTORE_CONF_DIR": str(self.conf_dir),
        }

    def schematool(self, *args: str) -> subprocess.CompletedProcess:
        """Run the metastore's schema tool against the PostgreSQL database."""
        argv = self._java(_SCHEMA_TOOL_MAIN, "-dbType", "postgres", *args)
        return subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **self._env()})

    def schema_version(self) -> str | None:
        """The schema version recorded in the metastore database, None before init."""
        try:
            return Postgres(self.s).psql('SELECT "SCHEMA_VERSION" FROM "VERSION"', METASTORE_DATABASE) or None
        except process.StartError:
            return None

    def _release_schema_version(self) -> str:
        # The last step of the release's upgrade path ("4.0.0-beta-1-to-4.0.0") ends at its schema version.
        order = self.home / "scripts" / "metastore" / "upgrade" / "postgres" / "upgrade.order.postgres"
        return order.read_text().split()[-1].split("-to-")[-1]

    def _init_or_upgrade_schema(self) -> None:
        # Skipping the tool when the versions match saves a JVM start; should they
        # differ after all, schema verification stops the server with a clear error.
        if self.schema_version() == self._release_schema_version():
            return
        artifacts.log("metastore: schematool -initOrUpgradeSchema")
        result = self.schematool("-initOrUpgradeSchema")
        log = process.log_file(self.s, "metastore")
        with open(log, "a") as out:
            out.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise process.StartError(
                f"metastore: schematool -initOrUpgradeSchema failed (exit {result.returncode}); see {log}\n"
                + process.tail(log)
            )

    def ready(self) -> bool:
        return process.port_open(self.s.host, self.s.metastore_port)

    def start(self) -> None:
        if all(self.pids().values()) and self.ready():
            return
        self.s.logs_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        log = process.log_file(self.s, "metastore")
        offset = 0  # where this start's lines begin in the log
        if process.running_pid(self.s, "metastore") is None:
            if not Postgres(self.s).ready():
                raise process.StartError(
                    f"metastore: PostgreSQL does not accept connections on {self.s.host}:{self.s.postgres_port}; "
                    "start it first (questline-stack up postgres metastore)"
                )
            self._init_or_upgrade_schema()
            offset = log.stat().st_size if log.exists() else 0
            process.spawn(self.s, "metastore", self._java(_SERVER_MAIN), env=self._env())

        def serving() -> bool:
            with open(log, "rb") as f:
                f.seek(offset)
                return _STARTED_LINE.encode() in f.read() and self.ready()

        process.wait_until(self.s, "metastore", serving, what="serving Thrift calls")
