"""Kafka: one KRaft process that is both broker and controller, from Maven Central jars.

Clients authenticate with SASL/SCRAM-SHA-512 on the one client listener and StandardAuthorizer checks
their ACLs (issue 20, docs/security.md). The admin's SCRAM credential is written into the metadata at
format time (`--add-scram`); at every `up` the admin upserts the other users' credentials and ACLs.
The controller listener is bound to loopback and speaks SASL/PLAIN with one static user known only
to this process's config: no client request is served there without a password either.
"""

import base64
import secrets
import subprocess
import uuid

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_events import SPARK_KAFKA_GROUP_PREFIX
from questline_settings import kafka as kafka_auth
from questline_stack.components import Component
from questline_stack.settings import KAFKA_ADMIN, KAFKA_API, KAFKA_SPARK, KAFKA_USERS

# Tests and benchmarks write to topics of their own (questline_stack.scratch): the API and Spark
# users get the same rights on those as on the events topic.
SCRATCH_TOPIC_PREFIX = "questline-test-"
# The broker's user on the controller listener (SASL/PLAIN, static: SCRAM needs the metadata
# that the controller serves). A super user, like the admin.
_CONTROLLER_USER = "controller"

_LOG4J2 = """\
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
"""


def _write_private(path, text: str) -> None:
    """Write a file only its owner reads (broker configs hold passwords)."""
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)


def _cluster_id() -> str:
    # Kafka's own format: URL-safe base64 of 16 random bytes, no padding, and not
    # starting with '-' (the storage tool would read that as an option).
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):
            return cid


class Kafka(Component):
    name = "kafka"
    processes = ("kafka",)

    @property
    def _version(self) -> str:
        return versions()["kafka"]["version"]

    @property
    def _jars_dir(self):
        return self.s.cache_dir / "jars" / f"kafka-{self._version}"

    @property
    def _server_properties(self):
        return self.state_home / "config" / "server.properties"

    def fetch(self) -> None:
        v = versions()["kafka"]
        artifacts.resolve_jars(
            "kafka", [f"org.apache.kafka:kafka_{v['scala']}:{v['version']}", *v["logging_jars"]], self._jars_dir
        )

    def _ensure_passwords(self) -> None:
        """One random password per user (and the controller's), generated once, mode 0600."""
        users = self.s.kafka_users_dir
        users.mkdir(parents=True, exist_ok=True)
        users.chmod(0o700)
        for user in (*KAFKA_USERS, _CONTROLLER_USER):
            path = users / user
            if not path.exists():
                path.touch(mode=0o600)
                path.write_text(secrets.token_urlsafe(24) + "\n")

    def _password(self, user: str) -> str:
        return (self.s.kafka_users_dir / user).read_text().strip()

    def _write_config(self) -> None:
        conf = self.state_home / "config"
        conf.mkdir(parents=True, exist_ok=True)
        (self.state_home / "data").mkdir(exist_ok=True)
        _write_private(self._server_properties, self._properties(authenticated=True, client_port=self.s.kafka_port))
        (conf / "log4j2.properties").write_text(_LOG4J2.format(log=process.log_file(self.s, "kafka-server")))

    def _properties(self, *, authenticated: bool, client_port: int) -> str:
        """server.properties; without `authenticated`, the broker as it ran before Kafka had users
        (plaintext, no ACLs): only for adding the admin to such a data dir (_add_admin_to_old_storage)."""
        s = self.s
        if authenticated:
            admin = self.s.kafka_credentials(KAFKA_ADMIN)
            controller = self._password(_CONTROLLER_USER)
            plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
            security = [
                "listener.security.protocol.map=CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
                # Clients: SCRAM users from the metadata; the broker to itself as the admin.
                f"listener.name.client.sasl.enabled.mechanisms={kafka_auth.MECHANISM}",
                f"sasl.mechanism.inter.broker.protocol={kafka_auth.MECHANISM}",
                f"listener.name.client.{kafka_auth.MECHANISM.lower()}.sasl.jaas.config={admin.jaas_config()}",
                # Broker to controller: one static PLAIN user (this file is mode 0600).
                "listener.name.controller.sasl.enabled.mechanisms=PLAIN",
                "sasl.mechanism.controller.protocol=PLAIN",
                f"listener.name.controller.plain.sasl.jaas.config={plain} required "
                f'username="{_CONTROLLER_USER}" password="{controller}" user_{_CONTROLLER_USER}="{controller}";',
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                "allow.everyone.if.no.acl.found=false",
                f"super.users=User:{KAFKA_ADMIN};User:{_CONTROLLER_USER}",
            ]
        else:
            security = ["listener.security.protocol.map=CONTROLLER:PLAINTEXT,CLIENT:PLAINTEXT"]
        return "\n".join(
            [
                "process.roles=broker,controller",
                "node.id=1",
                f"controller.quorum.bootstrap.servers={s.host}:{s.kafka_controller_port}",
                f"listeners=CLIENT://{s.host}:{client_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                f"advertised.listeners=CLIENT://{s.host}:{client_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=CLIENT",
                *security,
                f"log.dirs={self.state_home / 'data'}",
                # Topics are declared, never auto-created: a typo must fail, not create a topic.
                "auto.create.topics.enable=false",
                f"num.partitions={s.events_partitions}",
                "offsets.topic.replication.factor=1",
                "transaction.state.log.replication.factor=1",
                "transaction.state.log.min.isr=1",
                "share.coordinator.state.topic.replication.factor=1",
                "share.coordinator.state.topic.min.isr=1",
                "group.initial.rebalance.delay.ms=0",
                "log.retention.hours=168",
                "",
            ]
        )

    def _java(self, main: str, *args: str, heap: str = "256m") -> list[str]:
        return [
            str(self.s.java_home / "bin" / "java"),
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            f"-Dlog4j2.configurationFile={self.state_home / 'config' / 'log4j2.properties'}",
            "-cp",
            f"{self._jars_dir}/*",
            main,
            *args,
        ]

    @property
    def _admin_marker(self):
        # Written after a format that added the admin: a data dir without it predates Kafka's users.
        return self.state_home / "data" / "questline-admin-added"

    def _format_storage(self) -> None:
        """Format the log dir once; meta.properties marks a formatted directory."""
        if (self.state_home / "data" / "meta.properties").exists():
            if not self._admin_marker.exists():
                self._add_admin_to_old_storage()
            return
        artifacts.log("formatting Kafka storage (first start)")
        admin = self.s.kafka_credentials(KAFKA_ADMIN)
        cmd = self._java(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            "-t",
            _cluster_id(),
            "-c",
            str(self._server_properties),
            # The admin must exist before the broker starts: it is also the inter-broker user.
            "--add-scram",
            f"{kafka_auth.MECHANISM}=[name={admin.username},password={admin.password}]",
        )
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            # Without the bootstrap records the tool prints: they hold the admin's SCRAM keys.
            shown = "\n".join(line for line in result.stdout.splitlines() if not line.startswith("Bootstrap metadata"))
            raise process.StartError(f"kafka storage format failed:\n{shown}\n{result.stderr}")
        self._admin_marker.touch()

    def _add_admin_to_old_storage(self) -> None:
        """A data dir formatted before Kafka had users has no admin, and only a client can add a
        SCRAM credential to existing metadata. So the broker runs once as it did then (plaintext,
        no ACLs) on a loopback port of its own that no client knows, the admin is added, and it
        stops: every topic, record and committed offset stays."""
        port = process.free_port(self.s.host)
        config = self.state_home / "config" / "add-admin.properties"
        _write_private(config, self._properties(authenticated=False, client_port=port))
        artifacts.log(
            f"Kafka's data in {self.state_home / 'data'} predates its users: adding the admin "
            f"(the broker once without authentication on {self.s.host}:{port}, a port no client knows)"
        )
        name = "kafka-add-admin"
        process.spawn(self.s, name, self._java("kafka.Kafka", str(config), heap=self.s.kafka_heap))
        try:
            # The client lives only in this call, so it is gone before its broker (it would log that).
            self._upsert_admin({"bootstrap.servers": f"{self.s.host}:{port}", "socket.timeout.ms": 5000}, name)
        finally:
            process.stop(self.s, name, timeout=60)
            config.unlink(missing_ok=True)
        self._admin_marker.touch()
        artifacts.log("the admin is added; Kafka starts with its users and ACLs")

    def _upsert_admin(self, config: dict, name: str) -> None:
        from confluent_kafka.admin import AdminClient

        admin = AdminClient(config)
        process.wait_until(self.s, name, lambda: bool(admin.list_topics(timeout=5).brokers))
        self._set_passwords(admin, (KAFKA_ADMIN,))

    def _set_passwords(self, admin, users: tuple[str, ...]) -> None:
        """Upsert the SCRAM-SHA-512 credential of each user from its password file."""
        from confluent_kafka.admin import ScramCredentialInfo, ScramMechanism, UserScramCredentialUpsertion

        info = ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, 8192)
        upserts = [UserScramCredentialUpsertion(user, info, self._password(user).encode()) for user in users]
        for user, future in admin.alter_user_scram_credentials(upserts).items():
            try:
                future.result(30)
            except Exception as exc:
                raise process.StartError(f"could not set the Kafka credentials of {user}: {exc}") from exc

    def start(self) -> None:
        # A deleted password file gets a new password, which ensure_users sets (rotation, docs/security.md).
        self._ensure_passwords()
        if process.running_pid(self.s, "kafka") is None:
            self._write_config()
            self._format_storage()
            process.spawn(
                self.s,
                "kafka",
                self._java("kafka.Kafka", str(self._server_properties), heap=self.s.kafka_heap),
            )
        process.wait_until(self.s, "kafka", self.ready)
        self.ensure_users()
        self.ensure_topics()

    def _admin(self):
        from confluent_kafka.admin import AdminClient

        return AdminClient(self.s.kafka_config(KAFKA_ADMIN, **{"socket.timeout.ms": 5000}))

    def ready(self) -> bool:
        if not process.port_open(self.s.host, self.s.kafka_port):
            return False
        metadata = self._admin().list_topics(timeout=5)
        return bool(metadata.brokers)

    def acls(self) -> list:
        """What the API and Spark may do (everything else is denied; the admin is a super user).
        The API's producer is idempotent: since Kafka 3.0 that needs Write on the topic, no cluster right."""
        from confluent_kafka.admin import AclBinding, AclOperation, AclPermissionType, ResourcePatternType
        from confluent_kafka.admin import ResourceType as R

        def allow(user, resource, name, pattern, operation):
            return AclBinding(resource, name, pattern, f"User:{user}", "*", operation, AclPermissionType.ALLOW)

        literal, prefixed = ResourcePatternType.LITERAL, ResourcePatternType.PREFIXED
        rights = {
            KAFKA_API: (AclOperation.WRITE, AclOperation.DESCRIBE),
            KAFKA_SPARK: (AclOperation.READ, AclOperation.DESCRIBE),
        }
        bindings = [
            allow(user, R.TOPIC, name, pattern, operation)
            for name, pattern in ((self.s.events_topic, literal), (SCRATCH_TOPIC_PREFIX, prefixed))
            for user, operations in rights.items()
            for operation in operations
        ]
        bindings.append(allow(KAFKA_SPARK, R.GROUP, SPARK_KAFKA_GROUP_PREFIX, prefixed, AclOperation.READ))
        return bindings

    def ensure_users(self) -> None:
        """Upsert the SCRAM credentials of the API and Spark users and their ACLs (idempotent)."""
        admin = self._admin()
        self._set_passwords(admin, (KAFKA_API, KAFKA_SPARK))
        for binding, future in admin.create_acls(self.acls()).items():
            try:
                future.result(30)
            except Exception as exc:
                raise process.StartError(f"could not create the Kafka ACL {binding}: {exc}") from exc

    def ensure_topics(self) -> None:
        """Create the events topic (QUESTLINE_EVENTS_TOPIC) if missing: auto-creation is off."""
        from confluent_kafka.admin import NewTopic

        admin = self._admin()
        if self.s.events_topic in admin.list_topics(timeout=10).topics:
            return
        futures = admin.create_topics(
            [NewTopic(self.s.events_topic, num_partitions=self.s.events_partitions, replication_factor=1)]
        )
        for topic, future in futures.items():
            try:
                future.result(30)
                artifacts.log(f"created topic {topic} ({self.s.events_partitions} partitions)")
            except Exception as exc:
                if "TOPIC_ALREADY_EXISTS" not in str(exc):
                    raise process.StartError(f"could not create Kafka topic {topic}: {exc}") from exc
