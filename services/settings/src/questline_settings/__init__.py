"""How every questline process reads its settings: one environment variable per reader, one error style.

Every settings module (the API, the Spark jobs, the simulator, the report, the local stack, the
cluster tooling) reads its variables with these readers, so every bad value fails the same way:
the variable, the value and the expected range. questline_settings.trino connects to Trino from a URL.
It has no dependencies and ships in every image that runs our Python.
"""

from questline_settings.env import (
    SettingsError,
    choice,
    expected_range,
    flag,
    http_url,
    jvm_size,
    kafka_bootstrap_servers,
    kafka_topic,
    local_state_dir,
    matching,
    number,
    parse_flag,
    parse_number,
    path,
    port,
    raw,
    required,
    sql_name,
    text,
    without_password,
)

__all__ = [
    "SettingsError",
    "choice",
    "expected_range",
    "flag",
    "http_url",
    "jvm_size",
    "kafka_bootstrap_servers",
    "kafka_topic",
    "local_state_dir",
    "matching",
    "number",
    "parse_flag",
    "parse_number",
    "path",
    "port",
    "raw",
    "required",
    "sql_name",
    "text",
    "without_password",
]
