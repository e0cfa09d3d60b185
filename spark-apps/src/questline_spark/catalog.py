"""Tables and partitions in the Hive metastore, registered through Trino's hive catalog.

Why Trino and not Spark's Hive client: Spark 4.2's built-in Hive client (2.3.10)
calls thrift methods such as `get_table` that the Hive 4.0 metastore no longer
serves ("Invalid method name: 'get_table'"), and an isolated Hive 4 client needs
the whole Hive jar set at runtime. Trino speaks the metastore's current API, is
the engine the tables are for, and registers partitions with one call that needs
no extra server configuration (`system.sync_partition_metadata`).
"""

import logging
import time

import requests
import trino

from questline_spark.settings import Settings
from questline_spark.tables import TableSpec, trino_create_table

log = logging.getLogger(__name__)

# How long a job waits for a Trino that is starting up before it gives up.
STARTUP_WAIT_SECONDS = 180


class Catalog:
    def __init__(self, settings: Settings):
        self.catalog = settings.trino_catalog
        self.schema = settings.database
        self._connection = settings.trino_login.connect(settings.trino_url, catalog=settings.trino_catalog)

    def execute(self, sql: str, params: tuple | None = None) -> list[tuple]:
        """Run one statement. Every statement here is idempotent, so a Trino that is
        (re)starting is waited for instead of failing the job."""
        deadline = time.monotonic() + STARTUP_WAIT_SECONDS
        while True:
            cursor = self._connection.cursor()
            try:
                cursor.execute(sql, params)
                return cursor.fetchall()
            except (trino.exceptions.TrinoQueryError, requests.ConnectionError) as exc:
                starting = isinstance(exc, requests.ConnectionError) or exc.error_name == "SERVER_STARTING_UP"
                if not starting or time.monotonic() > deadline:
                    raise
                log.warning("Trino is not serving yet (%s); retrying", type(exc).__name__)
                time.sleep(2)
            finally:
                cursor.close()

    def qualified(self, table: str) -> str:
        return f'{self.catalog}."{self.schema}"."{table}"'

    def ensure_schema(self, location: str) -> None:
        self.execute(f"CREATE SCHEMA IF NOT EXISTS {self.catalog}.\"{self.schema}\" WITH (location = '{location}')")

    def ensure_table(self, spec: TableSpec, location: str) -> None:
        self.execute(trino_create_table(spec, self.qualified(spec.name), location))

    def partitions(self, spec: TableSpec) -> set[str]:
        rows = self.execute(f'SELECT "{spec.partition_column}" FROM {self.qualified(spec.name + "$partitions")}')
        return {row[0] for row in rows}

    def add_new_partitions(self, spec: TableSpec) -> None:
        """Register every partition directory of the table that the metastore does not know yet."""
        # CALL takes no query parameters; both names are plain SQL names (settings, tables.py).
        self.execute(
            f"CALL {self.catalog}.system.sync_partition_metadata("
            f"schema_name => '{self.schema}', table_name => '{spec.name}', mode => 'ADD')"
        )

    def unregister_partition(self, spec: TableSpec, partition: str) -> None:
        """Remove a partition (`event_date=2026-11-27`) from the metastore; its files are not touched."""
        column, value = partition.split("=", 1)
        self.execute(
            f"CALL {self.catalog}.system.unregister_partition("
            f"schema_name => '{self.schema}', table_name => '{spec.name}', "
            f"partition_columns => ARRAY['{column}'], partition_values => ARRAY['{value}'])"
        )


class PartitionRegistry:
    """Remembers registered partitions so a batch only calls Trino for a new date."""

    def __init__(self, catalog: Catalog, specs: dict[str, TableSpec]):
        self.catalog = catalog
        self.specs = specs
        self.known = {name: catalog.partitions(spec) for name, spec in specs.items()}

    def register(self, written: dict[str, set[str]]) -> list[str]:
        added = []
        for name, values in written.items():
            new = values - self.known[name]
            if new:
                self.catalog.add_new_partitions(self.specs[name])
                self.known[name] |= new
                added += [f"{name}/{v}" for v in sorted(new)]
        return added
