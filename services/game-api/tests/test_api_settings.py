import pytest

from questline_api.settings import SettingsError, load

KAFKA = {"KAFKA_BOOTSTRAP_SERVERS": "kafka-0:9092, kafka-1:9092"}


def test_defaults_need_only_the_kafka_bootstrap_servers():
    settings = load(KAFKA)
    assert settings.kafka_bootstrap_servers == "kafka-0:9092,kafka-1:9092"
    assert settings.produce_timeout > 0
    assert settings.batch_max_events >= 1
    assert settings.workers >= 1
    assert settings.events_topic == "events"


def test_missing_bootstrap_servers_says_what_is_expected():
    with pytest.raises(SettingsError, match=r"KAFKA_BOOTSTRAP_SERVERS is not set \(expected host:port"):
        load({})


def test_bootstrap_servers_without_port_is_refused():
    with pytest.raises(SettingsError, match="KAFKA_BOOTSTRAP_SERVERS='kafka'"):
        load({"KAFKA_BOOTSTRAP_SERVERS": "kafka"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("QUESTLINE_API_PRODUCE_TIMEOUT", "soon", "not a number of seconds"),
        ("QUESTLINE_API_PRODUCE_TIMEOUT", "0", "out of range"),
        ("QUESTLINE_API_BATCH_MAX_EVENTS", "1.5", "not a number of events"),
        ("QUESTLINE_API_WORKERS", "0", "out of range"),
        ("QUESTLINE_API_KAFKA_COMPRESSION", "brotli", "not one of none, gzip"),
        ("QUESTLINE_API_ACCESS_LOG", "maybe", "not a boolean"),
        ("QUESTLINE_API_LOG_LEVEL", "loud", "not one of DEBUG"),
        ("QUESTLINE_EVENTS_TOPIC", "events topic", "not a Kafka topic name"),
    ],
)
def test_bad_value_names_the_variable_and_the_expectation(name, value, message):
    with pytest.raises(SettingsError, match=f"{name}=.*{message}"):
        load({**KAFKA, name: value})


def test_values_are_read_from_the_environment():
    env = {"QUESTLINE_API_PRODUCE_TIMEOUT": "1.5", "QUESTLINE_API_THREADS": "4", "QUESTLINE_API_ACCESS_LOG": "on"}
    settings = load({**KAFKA, **env})
    assert (settings.produce_timeout, settings.threads, settings.access_log) == (1.5, 4, True)
