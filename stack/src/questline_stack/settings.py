"""Every setting of the local stack, read from environment variables in one place.

All variables start with QUESTLINE_. Ports and heaps are configurable so the stack
can sit beside other services; the defaults add up to about 5 GiB of heap.
"""

import dataclasses
from pathlib import Path

from questline_devkit.artifacts import cache_dir
from questline_devkit.process import StateDirLayout, start_timeout
from questline_devkit.versions import versions
from questline_events import TOPIC_EVENTS, TRINO_CATALOG, TRINO_PIPELINE_USER
from questline_settings import SettingsError, jvm_size, kafka_topic, local_state_dir, number, path, port, sql_name, text
from questline_settings import kafka as kafka_auth
from questline_settings.trino import TrinoLogin

__all__ = ["KAFKA_ADMIN", "KAFKA_API", "KAFKA_SPARK", "KAFKA_USERS", "Settings", "SettingsError", "load"]

# Kafka's SCRAM users (issue 20): the admin (super user: the stack, tests and tools that create
# topics), the API (writes the events topic) and Spark (reads it). Passwords are generated at `up`.
KAFKA_ADMIN, KAFKA_API, KAFKA_SPARK = "admin", "api", "spark"
KAFKA_USERS = (KAFKA_ADMIN, KAFKA_API, KAFKA_SPARK)


@dataclasses.dataclass(frozen=True)
class Settings(StateDirLayout):
    cache_dir: Path  # downloads and resolved jars; safe to keep forever
    state_dir: Path  # data, configs, logs, pids of the running stack; `down --purge` removes it
    host: str
    kafka_port: int
    kafka_controller_port: int
    namenode_port: int
    namenode_http_port: int
    datanode_port: int
    datanode_http_port: int
    datanode_ipc_port: int
    postgres_port: int
    metastore_port: int
    trino_port: int
    kafka_heap: str
    namenode_heap: str
    datanode_heap: str
    metastore_heap: str
    trino_heap: str
    java_home: Path
    trino_java_home: Path
    start_timeout: float
    events_partitions: int
    events_topic: str  # created at `up` (auto-creation is off), as the chart's topic Job does
    trino_catalog: str  # the name of Trino's Hive catalog (its catalog file)
    # --- Trino's users and TLS (issue 20, docs/security.md "Trino") ---
    trino_https_port: int  # clients query here; the HTTP port serves only Trino itself and /v1/info

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.host}:{self.kafka_port}"

    @property
    def hdfs_uri(self) -> str:
        return f"hdfs://{self.host}:{self.namenode_port}"

    @property
    def metastore_uri(self) -> str:
        return f"thrift://{self.host}:{self.metastore_port}"

    @property
    def trino_url(self) -> str:
        """Where clients query: HTTPS, with a password (questline_stack.components.trino_auth)."""
        return f"https://{self.host}:{self.trino_https_port}"

    @property
    def trino_http_url(self) -> str:
        """Trino's plain HTTP port: discovery, /v1/info; any user is refused there."""
        return f"http://{self.host}:{self.trino_port}"

    @property
    def trino_auth_dir(self) -> Path:
        """The certificate, password file, rules and each user's password, made at the first `up`."""
        return self.state_dir / "trino" / "auth"

    @property
    def trino_ca_file(self) -> Path:
        return self.trino_auth_dir / "ca.pem"

    def trino_password_file(self, user: str) -> Path:
        return self.trino_auth_dir / "passwords" / user

    def trino_env(self, user: str) -> dict[str, str]:
        """The variables a component reads to log in to Trino as `user` (one of TRINO_USERS)."""
        return {
            "QUESTLINE_TRINO_URL": self.trino_url,
            "QUESTLINE_TRINO_USER": user,
            "QUESTLINE_TRINO_PASSWORD_FILE": str(self.trino_password_file(user)),
            "QUESTLINE_TRINO_CA_FILE": str(self.trino_ca_file),
        }

    def trino_login(self, user: str = TRINO_PIPELINE_USER) -> TrinoLogin:
        return TrinoLogin(user, self.trino_password_file(user).read_text().strip(), self.trino_ca_file)

    def trino_connect(self, user: str = TRINO_PIPELINE_USER, **options):
        """A connection to the stack's Trino as `user` (by default the pipeline, which may write)."""
        return self.trino_login(user).connect(self.trino_url, **options)

    # --- Kafka users (issue 20, item 3) ---
    @property
    def kafka_users_dir(self) -> Path:
        """One password file per Kafka user (mode 0600), written by the Kafka component at `up`."""
        return self.state_dir / "kafka" / "users"

    def kafka_credentials(self, user: str = KAFKA_ADMIN) -> kafka_auth.KafkaCredentials:
        if user not in KAFKA_USERS:
            raise ValueError(f"unknown Kafka user {user!r} (expected one of {', '.join(KAFKA_USERS)})")
        try:
            password = (self.kafka_users_dir / user).read_text().strip()
        except FileNotFoundError:
            raise SettingsError(
                f"no password for the Kafka user {user!r} in {self.kafka_users_dir} (run `questline-stack up kafka`)"
            ) from None
        return kafka_auth.KafkaCredentials(user, password)

    def kafka_config(self, user: str = KAFKA_ADMIN, **extra) -> dict[str, object]:
        """A confluent-kafka configuration for the stack's Kafka as `user`."""
        return kafka_auth.client_config(self.kafka_bootstrap, self.kafka_credentials(user), **extra)

    def kafka_env(self, user: str) -> dict[str, str]:
        """The variables every client reads its Kafka user from (questline_settings.kafka)."""
        credentials = self.kafka_credentials(user)
        return {kafka_auth.USERNAME: credentials.username, kafka_auth.PASSWORD: credentials.password}

    # --- end of Kafka users ---

    def client_env(self, *, kafka_user: str = KAFKA_ADMIN) -> dict[str, str]:
        """What a client of the stack (API, Spark jobs, tests) needs, as env vars. Kafka's user is
        the admin unless named: the API gets `kafka_user=KAFKA_API`, the Spark jobs KAFKA_SPARK."""
        kafka_user_env = self.kafka_env(kafka_user) if (self.kafka_users_dir / kafka_user).exists() else {}
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            **kafka_user_env,
            "QUESTLINE_HDFS_URI": self.hdfs_uri,
            "QUESTLINE_METASTORE_URI": self.metastore_uri,
            "QUESTLINE_METASTORE_DB_URL": _metastore_db_url(self),
            "QUESTLINE_TRINO_URL": self.trino_url,
            "QUESTLINE_TRINO_CA_FILE": str(self.trino_ca_file),  # the user: trino_env(user)
            "JAVA_HOME": str(self.java_home),
            "QUESTLINE_SPARK_JARS": ",".join(str(p) for p in _spark_jars(self)),
        }


def _metastore_db_url(settings: "Settings") -> str:
    # The compaction job swaps partition locations in the metastore's database (docs/spark.md).
    from questline_stack.components.postgres import METASTORE_DATABASE, METASTORE_PASSWORD, METASTORE_USER

    return (
        f"postgresql://{METASTORE_USER}:{METASTORE_PASSWORD}@{settings.host}:{settings.postgres_port}"
        f"/{METASTORE_DATABASE}"
    )


def _spark_jars(settings: "Settings"):
    from questline_stack.components.spark import connector_jars

    return connector_jars(settings)


def load() -> Settings:
    java = versions()["java"]
    return Settings(
        cache_dir=cache_dir(),
        state_dir=local_state_dir(),
        host=text("QUESTLINE_HOST", "127.0.0.1"),
        kafka_port=port("QUESTLINE_KAFKA_PORT", 9092),
        kafka_controller_port=port("QUESTLINE_KAFKA_CONTROLLER_PORT", 9093),
        namenode_port=port("QUESTLINE_NAMENODE_PORT", 8020),
        namenode_http_port=port("QUESTLINE_NAMENODE_HTTP_PORT", 9870),
        datanode_port=port("QUESTLINE_DATANODE_PORT", 9866),
        datanode_http_port=port("QUESTLINE_DATANODE_HTTP_PORT", 9864),
        datanode_ipc_port=port("QUESTLINE_DATANODE_IPC_PORT", 9867),
        postgres_port=port("QUESTLINE_POSTGRES_PORT", 5433),
        metastore_port=port("QUESTLINE_METASTORE_PORT", 9083),
        trino_port=port("QUESTLINE_TRINO_PORT", 8080),
        kafka_heap=jvm_size("QUESTLINE_KAFKA_HEAP", "768m"),
        namenode_heap=jvm_size("QUESTLINE_NAMENODE_HEAP", "512m"),
        datanode_heap=jvm_size("QUESTLINE_DATANODE_HEAP", "384m"),
        metastore_heap=jvm_size("QUESTLINE_METASTORE_HEAP", "512m"),
        trino_heap=jvm_size("QUESTLINE_TRINO_HEAP", "2g"),
        java_home=path("QUESTLINE_JAVA_HOME", Path(java["default_home"])),
        trino_java_home=path("QUESTLINE_TRINO_JAVA_HOME", Path(java["trino_home"])),
        start_timeout=start_timeout(),
        events_partitions=number("QUESTLINE_EVENTS_PARTITIONS", 4, low=1, high=1000, unit="partitions"),
        events_topic=kafka_topic("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS),
        trino_catalog=sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        trino_https_port=port("QUESTLINE_TRINO_HTTPS_PORT", 8443),
    )
