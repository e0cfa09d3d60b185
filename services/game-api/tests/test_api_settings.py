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
        ("QUESTLINE_API_PRODUCE_TIMEOUT", "soon", "'soon' is not a number (expected 0.05..120 seconds)"),
        ("QUESTLINE_API_PRODUCE_TIMEOUT", "0", "'0' is out of range (expected 0.05..120 seconds)"),
        ("QUESTLINE_API_BATCH_MAX_EVENTS", "1.5", "'1.5' is not a whole number (expected 1..100000 events)"),
        ("QUESTLINE_API_WORKERS", "0", "'0' is out of range (expected 1..64 processes)"),
        ("QUESTLINE_API_KAFKA_COMPRESSION", "brotli", "'brotli' is not one of none, gzip, snappy, lz4, zstd"),
        ("QUESTLINE_API_ACCESS_LOG", "maybe", "'maybe' is not a boolean (expected true or false)"),
        ("QUESTLINE_API_LOG_LEVEL", "loud", "'loud' is not one of DEBUG, INFO, WARNING, ERROR"),
        ("QUESTLINE_EVENTS_TOPIC", "events topic", "'events topic' is not a Kafka topic name (expected e.g. events)"),
    ],
)
def test_bad_value_names_the_variable_the_value_and_the_expectation(name, value, message):
    with pytest.raises(SettingsError) as error:
        load({**KAFKA, name: value})
    assert str(error.value) == f"{name}={message}"


def test_values_are_read_from_the_environment():
    env = {"QUESTLINE_API_PRODUCE_TIMEOUT": "1.5", "QUESTLINE_API_THREADS": "4", "QUESTLINE_API_ACCESS_LOG": "on"}
    settings = load({**KAFKA, **env})
    assert (settings.produce_timeout, settings.threads, settings.access_log) == (1.5, 4, True)
