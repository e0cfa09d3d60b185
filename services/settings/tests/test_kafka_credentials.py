"""questline_settings.kafka: the Kafka user every client reads, and the client configs made from it."""

import pytest

from questline_settings import SettingsError
from questline_settings.kafka import KafkaCredentials, client_config, kafka_credentials


def test_no_user_means_no_authentication():
    assert kafka_credentials({}) is None
    assert client_config("k:9092") == {"bootstrap.servers": "k:9092"}


def test_a_user_without_a_password_or_the_reverse_is_refused_by_name():
    with pytest.raises(SettingsError, match=r"^QUESTLINE_KAFKA_PASSWORD is not set but QUESTLINE_KAFKA_USERNAME is"):
        kafka_credentials({"QUESTLINE_KAFKA_USERNAME": "api"})
    with pytest.raises(SettingsError, match=r"^QUESTLINE_KAFKA_USERNAME is not set but QUESTLINE_KAFKA_PASSWORD is"):
        kafka_credentials({"QUESTLINE_KAFKA_PASSWORD": "secret"})


def test_the_credentials_make_scram_configs_for_every_client_and_hide_the_password():
    credentials = kafka_credentials({"QUESTLINE_KAFKA_USERNAME": "api", "QUESTLINE_KAFKA_PASSWORD": 'p"w\\d'})
    assert 'p"w' not in repr(credentials)
    assert client_config("k:9092", credentials, **{"acks": "all"}) == {
        "bootstrap.servers": "k:9092",
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "api",
        "sasl.password": 'p"w\\d',
        "acks": "all",
    }
    # JAAS quoting: a quote or backslash in the password cannot end the value early.
    assert credentials.jaas_config() == (
        'org.apache.kafka.common.security.scram.ScramLoginModule required username="api" password="p\\"w\\\\d";'
    )
    assert credentials.spark_options() == {
        "kafka.security.protocol": "SASL_PLAINTEXT",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": credentials.jaas_config(),
    }


def test_a_user_name_with_spaces_is_refused():
    with pytest.raises(SettingsError, match="is not a Kafka user name"):
        kafka_credentials({"QUESTLINE_KAFKA_USERNAME": "a b", "QUESTLINE_KAFKA_PASSWORD": "x"})
    assert KafkaCredentials("a", "b").username == "a"
