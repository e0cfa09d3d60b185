"""Readers of one environment variable each, the one way every questline settings module reads.

A reader takes the variable's name and default, and what a valid value is (type, bounds and unit,
a set of choices or a pattern). An empty or unset variable means the default. A bad value raises
SettingsError naming the variable, the value and what is expected, e.g.
`QUESTLINE_API_WORKERS='0' is out of range (expected 1..64 processes)`.

`env` is the mapping to read (default os.environ), so settings can be loaded from a dict in tests.
"""

import getpass
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class SettingsError(ValueError):
    """A setting is missing or has a value the process cannot use; the message says which and why."""


def raw(name: str, env: Mapping[str, str] | None = None) -> str:
    """The stripped value of a variable; "" when it is unset."""
    return (os.environ if env is None else env).get(name, "").strip()


def expected_range(low: float | None, high: float | None, unit: str = "", *, above: bool = False) -> str:
    """`1..64 processes`, `1 or more partitions`, `more than 0 seconds`: the range a message names."""

    def shown(bound: float) -> str:
        return str(bound) if isinstance(bound, int) else f"{bound:g}"

    if above:
        text = f"more than {shown(low)}"
    elif high is None:
        text = f"{shown(low)} or more"
    else:
        text = f"{shown(low)}..{shown(high)}"
    return f"{text} {unit}".rstrip()


def parse_number(
    source: str,
    text: str,
    kind: type[int] | type[float] = int,
    *,
    low: float,
    high: float | None = None,
    unit: str = "",
    above: bool = False,
    what: str | None = None,
) -> int | float:
    """`text` as a number of `kind` within [low, high] (above=True: greater than low, no upper bound
    when high is None). `source` names where the text came from (a variable or a flag)."""
    expected = expected_range(low, high, unit, above=above)
    what = what or ("a whole number" if kind is int else "a number")
    try:
        value = kind(text)
    except ValueError:
        raise SettingsError(f"{source}={text!r} is not {what} (expected {expected})") from None
    if value != value or (value <= low if above else value < low) or (high is not None and value > high):
        raise SettingsError(f"{source}={text!r} is out of range (expected {expected})")
    return value


def number(
    name: str,
    default: int | float,
    kind: type[int] | type[float] = int,
    *,
    low: float,
    high: float | None = None,
    unit: str = "",
    above: bool = False,
    env: Mapping[str, str] | None = None,
) -> int | float:
    """A number of `kind` (int or float) within its bounds and unit; the default when unset."""
    text = raw(name, env)
    if not text:
        return default
    return parse_number(name, text, kind, low=low, high=high, unit=unit, above=above)


def port(name: str, default: int, *, env: Mapping[str, str] | None = None) -> int:
    text = raw(name, env)
    if not text:
        return default
    return parse_number(name, text, int, low=1, high=65535, what="a port number")


def parse_flag(source: str, text: str) -> bool:
    value = text.strip().lower()
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise SettingsError(f"{source}={text!r} is not a boolean (expected true or false)")


def flag(name: str, default: bool, *, env: Mapping[str, str] | None = None) -> bool:
    text = raw(name, env)
    return parse_flag(name, text) if text else default


def choice(
    name: str, default: str, choices: tuple[str, ...], *, normalize=str.lower, env: Mapping[str, str] | None = None
) -> str:
    """One of `choices`, compared after `normalize` (lower case by default)."""
    text = raw(name, env) or default
    value = normalize(text)
    if value not in choices:
        raise SettingsError(f"{name}={text!r} is not one of {', '.join(choices)}")
    return value


def text(name: str, default: str, *, env: Mapping[str, str] | None = None) -> str:
    """Any string; the default when unset or blank."""
    return raw(name, env) or default


def matching(
    name: str,
    default: str | None,
    pattern: str,
    expected: str,
    *,
    what: str = "",
    env: Mapping[str, str] | None = None,
) -> str:
    """A string that fully matches `pattern`; default None: the variable is required. `what` names
    the kind of value in the message (`is not a Kafka topic name`); without it, `is invalid`."""
    value = raw(name, env) or default
    if value is None:
        raise SettingsError(f"{name} is not set (expected {expected})")
    if not re.fullmatch(pattern, value):
        raise SettingsError(f"{name}={value!r} is {f'not {what}' if what else 'invalid'} (expected {expected})")
    return value


def required(name: str, expected: str, *, env: Mapping[str, str] | None = None) -> str:
    value = raw(name, env)
    if not value:
        raise SettingsError(f"{name} is not set (expected {expected})")
    return value


def path(name: str, default: Path, *, env: Mapping[str, str] | None = None) -> Path:
    """A path, user-expanded and absolute; the default (as given) when unset."""
    value = raw(name, env)
    return Path(value).expanduser().resolve() if value else default


def local_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """QUESTLINE_STATE, default /var/tmp/questline-<user>: where local runs keep data and artifacts
    (the local stack's servers, the simulator's ground truth, the cluster tests' logs). Not under
    $HOME: PostgreSQL refuses to run as root, and its data must be reachable by `postgres`."""
    return path("QUESTLINE_STATE", Path("/var/tmp") / f"questline-{getpass.getuser()}", env=env)


def without_password(url: str) -> str:
    """The URL as a message may show it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def http_url(
    name: str, default: str | None, *, example: str = "http://host:port", env: Mapping[str, str] | None = None
) -> str | None:
    """An http(s) URL with a host, without a trailing slash; None when unset and default is None."""
    value = raw(name, env) or default
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{name}={without_password(value)!r} is not an http(s) URL (expected {example})")
    return value.rstrip("/")


# Values several components read the same way.

SQL_NAME = r"[a-z][a-z0-9_]*"
HOST_PORTS = r"[A-Za-z0-9_.\-\[\]:]+:\d{1,5}(,[A-Za-z0-9_.\-\[\]:]+:\d{1,5})*"
KAFKA_TOPIC = r"[A-Za-z0-9._-]{1,249}"
JVM_SIZE = r"\d+[mg]"


def sql_name(name: str, default: str, *, env: Mapping[str, str] | None = None) -> str:
    """A database, schema or catalog name as the tables are written: lower case, no quoting needed."""
    return matching(name, default, SQL_NAME, f"e.g. {default}", what="a lower-case SQL name", env=env)


def kafka_bootstrap_servers(name: str = "KAFKA_BOOTSTRAP_SERVERS", *, env: Mapping[str, str] | None = None) -> str:
    value = required(name, "host:port[,host:port]", env=env)
    servers = ",".join(s.strip() for s in value.split(","))
    if not re.fullmatch(HOST_PORTS, servers):
        raise SettingsError(f"{name}={value!r} is not a list of host:port (expected host:port[,host:port])")
    return servers


def kafka_topic(name: str, default: str, *, env: Mapping[str, str] | None = None) -> str:
    return matching(name, default, KAFKA_TOPIC, f"e.g. {default}", what="a Kafka topic name", env=env)


def jvm_size(name: str, default: str, *, env: Mapping[str, str] | None = None) -> str:
    """A JVM memory size (heap, Spark driver memory): digits and m or g."""
    value = raw(name, env).lower() or default
    if not re.fullmatch(JVM_SIZE, value):
        raise SettingsError(f"{name}={value!r} is not a memory size (expected e.g. 512m or 2g)")
    return value
