"""Kafka: one KRaft process that is both broker and controller, from Maven Central jars."""

import base64
import subprocess
import uuid

from questline_devkit import artifacts, process
from questline_devkit.versions import versions
from questline_stack.components import Component

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

    def _write_config(self) -> None:
        s = self.s
        conf = self.state_home / "config"
        conf.mkdir(parents=True, exist_ok=True)
        (self.state_home / "data").mkdir(exist_ok=True)
        self._server_properties.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.bootstrap.servers={s.host}:{s.kafka_controller_port}",
                    f"listeners=PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                    f"advertised.listeners=PLAINTEXT://{s.host}:{s.kafka_port},CONTROLLER://{s.host}:{s.kafka_controller_port}",
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
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
        )
        (conf / "log4j2.properties").write_text(_LOG4J2.format(log=process.log_file(s, "kafka-server")))

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

    def _format_storage(self) -> None:
        """Format the log dir once; meta.properties marks a formatted directory."""
        if (self.state_home / "data" / "meta.properties").exists():
            return
        artifacts.log("formatting Kafka storage (first start)")
        cmd = self._java(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "--ignore-formatted",
            "-t",
            _cluster_id(),
            "-c",
            str(self._server_properties),
        )
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise process.StartError(f"kafka storage format failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        if process.running_pid(self.s, "kafka") is None:
            self._write_config()
            self._format_storage()
            process.spawn(
                self.s,
                "kafka",
                self._java("kafka.Kafka", str(self._server_properties), heap=self.s.kafka_heap),
            )
        process.wait_until(self.s, "kafka", self.ready)
        self.ensure_topics()

    def _admin(self):
        from confluent_kafka.admin import AdminClient

        return AdminClient({"bootstrap.servers": self.s.kafka_bootstrap, "socket.timeout.ms": 5000})

    def ready(self) -> bool:
        if not process.port_open(self.s.host, self.s.kafka_port):
            return False
        metadata = self._admin().list_topics(timeout=5)
        return bool(metadata.brokers)

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
