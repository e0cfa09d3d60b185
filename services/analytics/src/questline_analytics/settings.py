"""Every setting of the report and the ground-truth check, from environment variables.

QUESTLINE_TRINO_URL is the one the local stack prints (`questline-stack env`);
on kind it is the port-forwarded Trino service. The tables are those of
QUESTLINE_DATABASE in QUESTLINE_TRINO_CATALOG, the variables the API and the
Spark jobs read. Flags of the `questline` CLI override the schema and the
output directory.
"""

import dataclasses
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from questline_events import DATABASE, TRINO_CATALOG
from questline_loadgen.settings import default_artifacts_dir

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
# Read until the database got one name in every component; now refused, so an old
# environment does not silently report on the default schema.
_RENAMED = {"QUESTLINE_TRINO_SCHEMA": "QUESTLINE_DATABASE"}


class SettingsError(ValueError):
    pass


@dataclasses.dataclass(frozen=True)
class Settings:
    trino_host: str
    trino_port: int
    trino_http_scheme: str
    trino_user: str
    catalog: str
    schema: str
    artifacts_dir: Path
    # How long the demo waits for the pipeline: for its probe event to show in Trino (a
    # fresh streaming job's first batch is slow), and for the tables to hold a whole run.
    catch_up_timeout: float

    @property
    def trino_url(self) -> str:
        return f"{self.trino_http_scheme}://{self.trino_host}:{self.trino_port}"


def _identifier(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if not _IDENTIFIER.match(value):
        raise SettingsError(f"{name}={value!r} is not a lower-case SQL identifier (expected e.g. {default})")
    return value


def load(env: Mapping[str, str] | None = None, **overrides) -> Settings:
    env = os.environ if env is None else env
    for old, new in _RENAMED.items():
        if env.get(old, "").strip():
            raise SettingsError(
                f"{old} is no longer read: set {new} instead (the variable the API and the Spark jobs read)"
            )
    raw_url = env.get("QUESTLINE_TRINO_URL", "").strip() or "http://127.0.0.1:8080"
    url = urlsplit(raw_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise SettingsError(f"QUESTLINE_TRINO_URL={raw_url!r} is not an http(s) URL (expected http://host:port)")
    raw_timeout = env.get("QUESTLINE_CATCH_UP_TIMEOUT", "").strip() or "300"
    try:
        timeout = float(raw_timeout)
    except ValueError:
        raise SettingsError(f"QUESTLINE_CATCH_UP_TIMEOUT={raw_timeout!r} is not a number of seconds") from None
    values = {
        "trino_host": url.hostname,
        "trino_port": url.port or (443 if url.scheme == "https" else 80),
        "trino_http_scheme": url.scheme,
        "trino_user": env.get("QUESTLINE_TRINO_USER", "").strip() or "questline",
        "catalog": _identifier(env, "QUESTLINE_TRINO_CATALOG", TRINO_CATALOG),
        "schema": _identifier(env, "QUESTLINE_DATABASE", DATABASE),
        "artifacts_dir": default_artifacts_dir(env),
        "catch_up_timeout": timeout,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
