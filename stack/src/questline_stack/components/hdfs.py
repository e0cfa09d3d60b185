"""HDFS: one NameNode and one DataNode, run from the Hadoop jars of Maven Central.

No Hadoop binary tarball is served by Maven Central, so the jars are resolved with
Maven and the daemons' main classes are started directly (no HADOOP_HOME, no bin/
scripts). Configuration is generated into the state dir on every start.
"""

import getpass
import json
import os
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component

# Where the Hive warehouse and the questline tables live in HDFS.
WAREHOUSE_DIR = "/user/hive/warehouse"
DATA_DIR = "/questline"

# Java 17 closes the JDK internals that Hadoop (and the Hive metastore on top of
# it) reach by reflection; these are the packages Hadoop's own scripts open.
JAVA17_OPENS = tuple(
    f"--add-opens=java.base/{package}=ALL-UNNAMED"
    for package in (
        "java.lang",
        "java.lang.reflect",
        "java.io",
        "java.net",
        "java.nio",
        "java.util",
        "java.util.concurrent",
        "java.util.concurrent.atomic",
        "sun.nio.ch",
        "sun.nio.cs",
        "sun.security.action",
        "sun.util.calendar",
    )
)

_NAMENODE_MAIN = "org.apache.hadoop.hdfs.server.namenode.NameNode"
_DATANODE_MAIN = "org.apache.hadoop.hdfs.server.datanode.DataNode"

# The log4j 1 configuration Hadoop's daemons read (through reload4j): everything
# to stdout, which process.spawn sends to logs/<process>.log.
_LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO,console
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.out
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
"""


def site_xml(properties: dict[str, str]) -> str:
    """A Hadoop-style *-site.xml configuration file."""
    body = "".join(
        f"  <property><name>{escape(k)}</name><value>{escape(v)}</value></property>\n" for k, v in properties.items()
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<configuration>\n{body}</configuration>\n'


def write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def java_argv(java_home: Path, heap: str, tmp_dir: Path, classpath: list[Path], main: str, *args: str) -> list[str]:
    tmp_dir.mkdir(parents=True, exist_ok=True)
    return [
        str(java_home / "bin" / "java"),
        f"-Xmx{heap}",
        # Jetty unpacks the web apps there: keep it in the state dir, not /tmp.
        f"-Djava.io.tmpdir={tmp_dir}",
        # Small heaps on a shared 2-core machine: one GC thread, and no C2 compiler,
        # which halves the CPU these lightly loaded daemons burn while starting.
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        *JAVA17_OPENS,
        "-cp",
        ":".join(str(p) for p in classpath),
        main,
        *args,
    ]


class Hdfs(Component):
    name = "hdfs"
    processes = ("namenode", "datanode")

    @property
    def version(self) -> str:
        return versions()["hadoop"]["version"]

    @property
    def jars_dir(self) -> Path:
        return self.s.cache_dir / "jars" / f"hadoop-{self.version}"

    @property
    def conf_dir(self) -> Path:
        return self.state_home / "conf"

    @property
    def name_dir(self) -> Path:
        return self.state_home / "name"

    @property
    def data_dir(self) -> Path:
        return self.state_home / "data"

    @property
    def web_url(self) -> str:
        return f"http://{self.s.host}:{self.s.namenode_http_port}"

    @property
    def webapps_root(self) -> Path:
        return self.s.cache_dir / "jars" / f"hadoop-{self.version}-webapps"

    def fetch(self) -> None:
        self._fetch_webapps()
        coords = [
            f"org.apache.hadoop:{artifact}:{self.version}"
            for artifact in ("hadoop-hdfs", "hadoop-hdfs-client", "hadoop-common")
        ]
        artifacts.resolve_jars("hadoop", coords, self.jars_dir)

    def _fetch_webapps(self) -> None:
        """The NameNode and DataNode web servers (which also serve WebHDFS and JMX)
        refuse to start without webapps/{hdfs,datanode,static} on the classpath.
        Hadoop's distribution ships them as a directory beside the jars, not inside
        them; on Maven Central only hadoop-hdfs's tests jar carries a copy, so only
        its webapps/ tree is unpacked (none of its test classes reach the classpath)."""
        marker = self.webapps_root / ".unpacked"
        if marker.is_file():
            return
        coord = f"org.apache.hadoop:hadoop-hdfs:{self.version}"
        tests_jar = artifacts.download(
            artifacts.maven_url(coord, classifier="tests"),
            self.s.cache_dir / "downloads" / f"hadoop-hdfs-{self.version}-tests.jar",
        )
        with zipfile.ZipFile(tests_jar) as jar:
            jar.extractall(self.webapps_root, members=[m for m in jar.namelist() if m.startswith("webapps/")])
        marker.touch()

    def classpath(self) -> list[Path]:
        """The Hadoop jars (HDFS server and client, common), for any JVM that needs them."""
        self.fetch()
        return sorted(self.jars_dir.glob("*.jar"))

    def _write_config(self) -> None:
        s = self.s
        write_if_changed(self.conf_dir / "core-site.xml", site_xml({"fs.defaultFS": s.hdfs_uri}))
        hdfs_site = {
            "dfs.namenode.name.dir": self.name_dir.as_uri(),
            "dfs.datanode.data.dir": self.data_dir.as_uri(),
            "dfs.replication": "1",
            "dfs.namenode.rpc-address": f"{s.host}:{s.namenode_port}",
            "dfs.namenode.http-address": f"{s.host}:{s.namenode_http_port}",
            "dfs.datanode.address": f"{s.host}:{s.datanode_port}",
            "dfs.datanode.http.address": f"{s.host}:{s.datanode_http_port}",
            "dfs.datanode.ipc.address": f"{s.host}:{s.datanode_ipc_port}",
            # WebHDFS redirects clients to the DataNode by this name.
            "dfs.datanode.hostname": s.host,
            # Permission checks guard users from each other; the local stack has one
            # (every process runs as the same OS user). With them on, a directory made
            # under one HDFS user name (a WebHDFS call's user.name, Trino impersonating
            # the query's user) would be read-only for the next client. The charts,
            # whose pods run as different users, keep them on.
            "dfs.permissions.enabled": "false",
            # With one DataNode there is nothing to wait for once its blocks are reported.
            "dfs.namenode.safemode.extension": "0",
            "hadoop.tmp.dir": str(self.state_home / "tmp"),
        }
        write_if_changed(self.conf_dir / "hdfs-site.xml", site_xml(hdfs_site))
        write_if_changed(self.conf_dir / "log4j.properties", _LOG4J_PROPERTIES)

    def _daemon_argv(self, heap: str, main: str, *args: str) -> list[str]:
        classpath = [self.conf_dir, self.webapps_root, *self.classpath()]
        return java_argv(self.s.java_home, heap, self.state_home / "tmp", classpath, main, *args)

    def _env(self) -> dict[str, str]:
        return {"JAVA_HOME": str(self.s.java_home)}

    def _format_once(self) -> None:
        # A formatted name dir has current/VERSION; formatting again would orphan the DataNode's blocks.
        if (self.name_dir / "current" / "VERSION").is_file():
            return
        artifacts.log("formatting the HDFS NameNode")
        # Blocks from an earlier namespace would make the DataNode refuse the new cluster id.
        shutil.rmtree(self.data_dir, ignore_errors=True)
        argv = self._daemon_argv(self.s.namenode_heap, _NAMENODE_MAIN, "-format", "-nonInteractive", "-force")
        with open(process.log_file(self.s, "namenode"), "ab") as out:
            rc = subprocess.run(argv, stdout=out, stderr=out, env={**os.environ, **self._env()}).returncode
        if rc != 0:
            raise process.StartError(
                f"hdfs: formatting the NameNode failed (exit {rc}); see {process.log_file(self.s, 'namenode')}"
            )

    def _jmx(self, bean: str) -> dict:
        query = urllib.parse.urlencode({"qry": f"Hadoop:service=NameNode,name={bean}"})
        with urllib.request.urlopen(f"{self.web_url}/jmx?{query}", timeout=5) as resp:
            return json.load(resp)["beans"][0]

    def _namenode_answers(self) -> bool:
        return bool(self._jmx("NameNodeInfo"))

    def ready(self) -> bool:
        """Out of safe mode, with a live DataNode that has room for blocks."""
        state = self._jmx("FSNamesystemState")
        return (
            state["FSState"] == "Operational"
            and state["NumLiveDataNodes"] >= 1
            and self._jmx("FSNamesystem")["CapacityRemaining"] > 0
        )

    def start(self) -> None:
        if all(self.pids().values()) and self.ready():
            return
        self.s.logs_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._format_once()
        env = self._env()
        if process.running_pid(self.s, "namenode") is None:
            process.spawn(self.s, "namenode", self._daemon_argv(self.s.namenode_heap, _NAMENODE_MAIN), env=env)
        # The DataNode retries until the NameNode listens, so both JVMs start at once.
        if process.running_pid(self.s, "datanode") is None:
            process.spawn(self.s, "datanode", self._daemon_argv(self.s.datanode_heap, _DATANODE_MAIN), env=env)
        process.wait_until(self.s, "namenode", self._namenode_answers, what="answering on its web port")
        process.wait_until(self.s, "datanode", self.ready, what="registered and HDFS out of safe mode")
        for path in (WAREHOUSE_DIR, DATA_DIR):
            self.mkdirs(path)

    def delete(self, path: str) -> bool:
        """Delete an HDFS file or directory tree through WebHDFS; False if there was none."""
        query = urllib.parse.urlencode({"op": "DELETE", "recursive": "true", "user.name": getpass.getuser()})
        request = urllib.request.Request(f"{self.web_url}/webhdfs/v1{path}?{query}", method="DELETE")
        with urllib.request.urlopen(request, timeout=60) as resp:
            return bool(json.load(resp).get("boolean"))

    def list_dir(self, path: str) -> list[str]:
        """The names in an HDFS directory ([] if it does not exist)."""
        query = urllib.parse.urlencode({"op": "LISTSTATUS", "user.name": getpass.getuser()})
        try:
            with urllib.request.urlopen(f"{self.web_url}/webhdfs/v1{path}?{query}", timeout=30) as resp:
                return [status["pathSuffix"] for status in json.load(resp)["FileStatuses"]["FileStatus"]]
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return []
            raise

    def mkdirs(self, path: str) -> None:
        """Create an HDFS directory (and parents) through WebHDFS; fine if it exists."""
        query = urllib.parse.urlencode({"op": "MKDIRS", "user.name": getpass.getuser()})
        request = urllib.request.Request(f"{self.web_url}/webhdfs/v1{path}?{query}", method="PUT")
        with urllib.request.urlopen(request, timeout=30) as resp:
            if not json.load(resp).get("boolean"):
                raise process.StartError(f"hdfs: could not create {path}; see {process.log_file(self.s, 'namenode')}")
