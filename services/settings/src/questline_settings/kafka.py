"""Authenticating to Kafka: the one way every questline client does it (issue 20, item 3).

Two variables, both or neither: QUESTLINE_KAFKA_USERNAME and QUESTLINE_KAFKA_PASSWORD, a SCRAM-SHA-512
user of the cluster (`questline-stack env` prints the local stack's admin; on Kubernetes each pod gets
its own user's from a Secret). Neither means no authentication, which only a listener without SASL
accepts. Each settings module reads them with `kafka_credentials()` and hands the result to its client:
`librdkafka()` for confluent-kafka (the API's producer, the readers of tests and tools), `spark_options()`
for Spark's Kafka source, `java_properties()` for Kafka's own command-line tools.

The transport is SASL_PLAINTEXT: the password itself never crosses the wire (SCRAM is a
challenge-response), but the records do, unencrypted; TLS is not done (docs/security.md).
"""

import dataclasses
from collections.abc import Mapping

from questline_settings.env import SettingsError, raw

__all__ = ["MECHANISM", "PASSWORD", "USERNAME", "KafkaCredentials", "client_config", "kafka_credentials"]

USERNAME = "QUESTLINE_KAFKA_USERNAME"
PASSWORD = "QUESTLINE_KAFKA_PASSWORD"
MECHANISM = "SCRAM-SHA-512"
SECURITY_PROTOCOL = "SASL_PLAINTEXT"
_LOGIN_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule"


@dataclasses.dataclass(frozen=True)
class KafkaCredentials:
    username: str
    password: str = dataclasses.field(repr=False)

    def librdkafka(self) -> dict[str, str]:
        """confluent-kafka's configuration keys."""
        return {
            "security.protocol": SECURITY_PROTOCOL,
            "sasl.mechanism": MECHANISM,
            "sasl.username": self.username,
            "sasl.password": self.password,
        }

    def jaas_config(self) -> str:
        def quoted(value: str) -> str:
            return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

        return f"{_LOGIN_MODULE} required username={quoted(self.username)} password={quoted(self.password)};"

    def java_properties(self) -> dict[str, str]:
        """The Java client's properties (Kafka's tools, a client.properties file)."""
        return {
            "security.protocol": SECURITY_PROTOCOL,
            "sasl.mechanism": MECHANISM,
            "sasl.jaas.config": self.jaas_config(),
        }

    def spark_options(self) -> dict[str, str]:
        """Options of Spark's Kafka source: the Java properties prefixed with `kafka.`. Spark redacts
        the JAAS value in plans and the UI (its value matches spark.redaction.regex: `password`)."""
        return {f"kafka.{key}": value for key, value in self.java_properties().items()}


def kafka_credentials(env: Mapping[str, str] | None = None) -> KafkaCredentials | None:
    """The SCRAM user of QUESTLINE_KAFKA_USERNAME/_PASSWORD; None when neither is set."""
    username, password = raw(USERNAME, env), raw(PASSWORD, env)
    if not username and not password:
        return None
    if not username or not password:
        given, missing = (USERNAME, PASSWORD) if username else (PASSWORD, USERNAME)
        raise SettingsError(
            f"{missing} is not set but {given} is (expected both, a SCRAM-SHA-512 user of Kafka, or neither)"
        )
    if any(c.isspace() or not c.isprintable() for c in username):
        raise SettingsError(f"{USERNAME}={username!r} is not a Kafka user name (expected no spaces)")
    return KafkaCredentials(username, password)


def client_config(bootstrap_servers: str, credentials: KafkaCredentials | None = None, **extra) -> dict[str, object]:
    """A confluent-kafka configuration: the bootstrap servers, the credentials (if any) and `extra`
    (keys with dots given as a dict: `**{"group.id": "g"}`)."""
    return {"bootstrap.servers": bootstrap_servers, **(credentials.librdkafka() if credentials else {}), **extra}
