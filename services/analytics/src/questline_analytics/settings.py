"""Every setting of the report and the ground-truth check, from environment variables.

QUESTLINE_TRINO_URL is the one the local stack prints (`questline-stack env`);
on kind it is the port-forwarded Trino service. The tables are those of
QUESTLINE_DATABASE in QUESTLINE_TRINO_CATALOG, the variables the API and the
Spark jobs read. Flags of the `questline` CLI override the schema and the
output directory.
"""

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path

from questline_events import DATABASE, TRINO_CATALOG
from questline_loadgen.settings import default_artifacts_dir
from questline_settings import SettingsError, number, raw, sql_name
from questline_settings.trino import TrinoLogin, trino_login, trino_url

__all__ = ["Settings", "SettingsError", "load"]

# Read until the database got one name in every component; now refused, so an old
# environment does not silently report on the default schema.
_RENAMED = {"QUESTLINE_TRINO_SCHEMA": "QUESTLINE_DATABASE"}


@dataclasses.dataclass(frozen=True)
class Settings:
    trino_url: str
    trino_login: TrinoLogin  # QUESTLINE_TRINO_USER (default `report`), _PASSWORD_FILE, _CA_FILE
    catalog: str
    schema: str
    artifacts_dir: Path
    # How long the demo waits for the pipeline: for its probe event to show in Trino (a
    # fresh streaming job's first batch is slow), and for the tables to hold a whole run.
    catch_up_timeout: float


def load(env: Mapping[str, str] | None = None, **overrides) -> Settings:
    env = os.environ if env is None else env
    for old, new in _RENAMED.items():
        if raw(old, env):
            raise SettingsError(
                f"{old} is no longer read: set {new} instead (the variable the API and the Spark jobs read)"
            )
    url = trino_url("QUESTLINE_TRINO_URL", "http://127.0.0.1:8080", env=env)
    values = {
        "trino_url": url,
        "trino_login": trino_login("report", url=url, env=env),
        "catalog": sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG, env=env),
        "schema": sql_name("QUESTLINE_DATABASE", DATABASE, env=env),
        "artifacts_dir": default_artifacts_dir(env),
        "catch_up_timeout": number(
            "QUESTLINE_CATCH_UP_TIMEOUT", 300.0, float, low=1, high=86_400, unit="seconds", env=env
        ),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
