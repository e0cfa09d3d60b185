"""PostgreSQL from Debian's packages: the Hive metastore's database.

The server runs straight from /usr/lib/postgresql/<version>/bin with its data,
socket and configuration in the state dir, so it never touches a system cluster.
"""

import os
import shutil
import subprocess
from pathlib import Path

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component

# The Hive metastore's database and login. A fixed password is fine for the local
# stack only: the server listens on the loopback address of a developer machine.
# The charts take the password from a Kubernetes Secret.
METASTORE_DATABASE = "metastore"
METASTORE_USER = "hive"
METASTORE_PASSWORD = "hive"

# PostgreSQL refuses to run as root; as root, the server runs as this OS user.
_OS_USER = "postgres"
_SUPERUSER = "postgres"


class Postgres(Component):
    name = "postgres"
    processes = ("postgres",)

    @property
    def bin_dir(self) -> Path:
        return Path("/usr/lib/postgresql") / versions()["postgresql"]["version"] / "bin"

    @property
    def data_dir(self) -> Path:
        return self.state_home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.state_home / "socket"

    @property
    def jdbc_url(self) -> str:
        return f"jdbc:postgresql://{self.s.host}:{self.s.postgres_port}/{METASTORE_DATABASE}"

    def _os_user(self) -> str | None:
        return _OS_USER if os.geteuid() == 0 else None

    def _as_server_user(self, argv: list[str]) -> list[str]:
        user = self._os_user()
        if user is None:
            return argv
        return ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv]

    def fetch(self) -> None:
        if not (self.bin_dir / "postgres").is_file():
            raise artifacts.FetchError(
                f"postgres: {self.bin_dir / 'postgres'} not found; run stack/system-deps.sh "
                f"(installs Debian's postgresql-{versions()['postgresql']['version']})"
            )

    def _prepare_dirs(self) -> None:
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        user = self._os_user()
        if user is not None:
            for path in (self.state_home, self.socket_dir):
                shutil.chown(path, user, user)

    def _initdb_once(self) -> None:
        if (self.data_dir / "PG_VERSION").is_file():
            return
        artifacts.log("postgres: initialising the database cluster")
        argv = [
            str(self.bin_dir / "initdb"),
            f"--pgdata={self.data_dir}",
            f"--username={_SUPERUSER}",
            "--encoding=UTF8",
            "--locale=C",
            # The superuser logs in over the socket in the state dir without a
            # password; TCP logins (the metastore's) need one.
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        with open(process.log_file(self.s, "postgres"), "ab") as out:
            rc = subprocess.run(self._as_server_user(argv), stdout=out, stderr=out).returncode
        if rc != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise process.StartError(f"postgres: initdb failed (exit {rc}); see {process.log_file(self.s, 'postgres')}")

    def _server_argv(self) -> list[str]:
        return [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-c",
            f"listen_addresses={self.s.host}",
            "-c",
            f"port={self.s.postgres_port}",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
        ]

    def ready(self) -> bool:
        argv = [str(self.bin_dir / "pg_isready"), "-q", "-h", self.s.host, "-p", str(self.s.postgres_port)]
        return subprocess.run(argv).returncode == 0

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the local socket; return unaligned, tuples-only output."""
        argv = [
            str(self.bin_dir / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-tA",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.s.postgres_port),
            "-U",
            _SUPERUSER,
            "-d",
            database,
            "-c",
            sql,
        ]
        result = subprocess.run(argv, capture_output=True, text=True)
        if result.returncode != 0:
            raise process.StartError(f"postgres: `{sql}` failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _create_metastore_database(self) -> None:
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{METASTORE_USER}'"):
            self.psql(f"CREATE ROLE {METASTORE_USER} LOGIN PASSWORD '{METASTORE_PASSWORD}'")
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{METASTORE_DATABASE}'"):
            self.psql(f"CREATE DATABASE {METASTORE_DATABASE} OWNER {METASTORE_USER}")

    def start(self) -> None:
        if all(self.pids().values()) and self.ready():
            return
        self.s.logs_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_dirs()
        self._initdb_once()
        if process.running_pid(self.s, "postgres") is None:
            process.spawn(self.s, "postgres", self._server_argv(), user=self._os_user())
        process.wait_until(self.s, "postgres", self.ready, what="accepting connections")
        self._create_metastore_database()
