"""Every reader names the variable, the value and what is expected; unset or blank means the default."""

from pathlib import Path

import pytest

from questline_settings import (
    SettingsError,
    choice,
    flag,
    jvm_size,
    kafka_bootstrap_servers,
    kafka_topic,
    matching,
    number,
    parse_number,
    path,
    port,
    sql_name,
    text,
)


def refused(read) -> str:
    with pytest.raises(SettingsError) as error:
        read()
    return str(error.value)


@pytest.mark.parametrize("env", [{}, {"N": ""}, {"N": "  "}])
def test_an_unset_or_blank_variable_is_its_default(env):
    assert number("N", 7, low=1, high=10, env=env) == 7
    assert flag("N", True, env=env) is True
    assert text("N", "d", env=env) == "d"
    assert choice("N", "lz4", ("lz4", "zstd"), env=env) == "lz4"


def test_a_number_is_read_as_its_type_within_its_bounds():
    assert number("N", 1, low=1, high=64, env={"N": " 8 "}) == 8
    assert number("N", 1.0, float, low=0.05, high=120, env={"N": "0.05"}) == 0.05
    assert number("N", 1.0, float, low=0, above=True, env={"N": "1e-3"}) == 0.001


WORKERS = {"low": 1, "high": 64, "unit": "processes"}
TIMEOUT = {"low": 0.05, "high": 120, "unit": "seconds"}


@pytest.mark.parametrize(
    ("kind", "bounds", "value", "message"),
    [
        (int, WORKERS, "two", "N='two' is not a whole number (expected 1..64 processes)"),
        (int, WORKERS, "1.5", "N='1.5' is not a whole number (expected 1..64 processes)"),
        (int, WORKERS, "65", "N='65' is out of range (expected 1..64 processes)"),
        (float, TIMEOUT, "soon", "N='soon' is not a number (expected 0.05..120 seconds)"),
        (float, TIMEOUT, "0", "N='0' is out of range (expected 0.05..120 seconds)"),
        (float, TIMEOUT, "nan", "N='nan' is out of range (expected 0.05..120 seconds)"),
        (float, {"low": 0, "above": True, "unit": "s"}, "0", "N='0' is out of range (expected more than 0 s)"),
        (int, {"low": 1, "unit": "partitions"}, "0", "N='0' is out of range (expected 1 or more partitions)"),
        (int, {"low": 0, "high": 2**63}, "-1", "N='-1' is out of range (expected 0..9223372036854775808)"),
    ],
)  # fmt: skip
def test_a_bad_number_names_the_variable_the_value_and_the_range(kind, bounds, value, message):
    assert refused(lambda: number("N", 1, kind, env={"N": value}, **bounds)) == message


def test_a_number_from_a_flag_names_the_flag():
    message = refused(lambda: parse_number("--players", "0", int, low=1, high=10, unit="players"))
    assert message == "--players='0' is out of range (expected 1..10 players)"


def test_a_port_is_1_to_65535():
    assert port("P", 9092, env={"P": "8080"}) == 8080
    assert refused(lambda: port("P", 9092, env={"P": "kafka"})) == "P='kafka' is not a port number (expected 1..65535)"
    assert refused(lambda: port("P", 9092, env={"P": "0"})) == "P='0' is out of range (expected 1..65535)"


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("ON", True), ("yes", True), ("off", False), ("0", False)]
)
def test_a_flag_reads_the_usual_spellings(value, expected):
    assert flag("F", not expected, env={"F": value}) is expected


def test_a_bad_flag_or_choice_says_what_is_allowed():
    assert refused(lambda: flag("F", False, env={"F": "maybe"})) == (
        "F='maybe' is not a boolean (expected true or false)"
    )
    assert refused(lambda: choice("C", "lz4", ("lz4", "zstd"), env={"C": "brotli"})) == (
        "C='brotli' is not one of lz4, zstd"
    )
    assert choice("L", "INFO", ("DEBUG", "INFO"), normalize=str.upper, env={"L": "debug"}) == "DEBUG"


def test_a_pattern_setting_can_be_required():
    assert refused(lambda: matching("M", None, r"\d+", "digits", env={})) == "M is not set (expected digits)"
    assert refused(lambda: matching("M", "1", r"\d+", "digits", env={"M": "x"})) == "M='x' is invalid (expected digits)"


def test_names_shared_by_several_components_are_checked_one_way():
    assert sql_name("D", "questline", env={}) == "questline"
    assert refused(lambda: sql_name("D", "questline", env={"D": "Bad-Name"})) == (
        "D='Bad-Name' is not a lower-case SQL name (expected e.g. questline)"
    )
    assert refused(lambda: kafka_topic("T", "events", env={"T": "my topic"})) == (
        "T='my topic' is not a Kafka topic name (expected e.g. events)"
    )
    assert kafka_bootstrap_servers(env={"KAFKA_BOOTSTRAP_SERVERS": "a:9092, b:9092"}) == "a:9092,b:9092"
    assert refused(lambda: kafka_bootstrap_servers(env={})) == (
        "KAFKA_BOOTSTRAP_SERVERS is not set (expected host:port[,host:port])"
    )
    assert refused(lambda: kafka_bootstrap_servers(env={"KAFKA_BOOTSTRAP_SERVERS": "kafka"})) == (
        "KAFKA_BOOTSTRAP_SERVERS='kafka' is not a list of host:port (expected host:port[,host:port])"
    )
    assert jvm_size("H", "512m", env={"H": "2G"}) == "2g"
    assert refused(lambda: jvm_size("H", "512m", env={"H": "lots"})) == (
        "H='lots' is not a memory size (expected e.g. 512m or 2g)"
    )


def test_a_path_is_made_absolute_and_the_default_kept_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert path("P", Path("relative/default"), env={}) == Path("relative/default")
    assert path("P", Path("/x"), env={"P": "sub"}) == tmp_path / "sub"


def test_local_runs_keep_state_per_user_unless_questline_state_says_where(tmp_path):
    import getpass

    from questline_loadgen.settings import default_artifacts_dir
    from questline_settings import local_state_dir

    assert local_state_dir(env={}) == Path(f"/var/tmp/questline-{getpass.getuser()}")
    assert local_state_dir(env={"QUESTLINE_STATE": str(tmp_path)}) == tmp_path
    # The simulator's artifacts (and the cluster tests' logs) follow the state dir.
    assert default_artifacts_dir({"QUESTLINE_STATE": str(tmp_path)}) == tmp_path / "artifacts"
