"""Trino in the local stack: answers SQL through the trino client, serves the `hive`
catalog over the metastore and HDFS, and a second `up` leaves it alone."""

import importlib.util

import pytest

from questline_devkit import process
from questline_stack.components.trino import Trino
from questline_stack.scratch import Scratch

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def trino(stack_up) -> Trino:
    return Trino(stack_up("trino"))


@pytest.fixture(scope="module")
def trino_with_metastore(trino: Trino, stack_up) -> Trino:
    if importlib.util.find_spec("questline_stack.components.metastore") is None:
        pytest.skip("the Hive metastore component (questline_stack.components.metastore) is not written yet")
    stack_up("postgres", "hdfs", "metastore")
    return trino


def test_a_query_returns_its_exact_result(trino):
    rows = trino.query("SELECT count(*), sum(x) FROM UNNEST(sequence(1, 100)) AS t(x)")
    assert rows == [[100, 5050]]


def test_the_hive_catalog_is_listed(trino):
    catalogs = {row[0] for row in trino.query("SHOW CATALOGS")}
    assert "hive" in catalogs


def test_second_up_keeps_the_same_process(trino, stack_up):
    pid = process.running_pid(trino.s, "trino")
    assert pid is not None
    stack_up("trino")
    assert process.running_pid(trino.s, "trino") == pid
    assert trino.ready()


def test_hive_schemas_come_from_the_metastore(trino_with_metastore):
    schemas = {row[0] for row in trino_with_metastore.query("SHOW SCHEMAS FROM hive")}
    # Every metastore has the `default` database; Trino adds information_schema itself.
    assert {"default", "information_schema"} <= schemas


def test_an_external_partitioned_parquet_table_in_hdfs_reads_back_exactly(trino_with_metastore):
    trino = trino_with_metastore
    # Its tables, schema and files are removed at the end.
    with Scratch(trino.s, "trino", make_topic=False) as scratch:
        schema, location = scratch.database, scratch.location
        trino.query(f"CREATE SCHEMA hive.{schema} WITH (location = '{location}')")
        # Shaped like the tables Spark writes: external, Parquet, Hive-style date partitions.
        trino.query(
            f"CREATE TABLE hive.{schema}.events (event_id varchar, amount bigint, event_date varchar) "
            f"WITH (format = 'PARQUET', partitioned_by = ARRAY['event_date'], "
            f"external_location = '{location}/events')"
        )
        trino.query(
            f"INSERT INTO hive.{schema}.events VALUES "
            "('a', 1, '2026-01-01'), ('b', 2, '2026-01-01'), ('c', 40, '2026-01-02')"
        )
        rows = trino.query(
            f"SELECT event_date, count(*), sum(amount) FROM hive.{schema}.events GROUP BY event_date ORDER BY 1"
        )
        assert rows == [["2026-01-01", 2, 3], ["2026-01-02", 1, 40]]
        partitions = trino.query(f'SELECT event_date FROM hive.{schema}."events$partitions" ORDER BY 1')
        assert partitions == [["2026-01-01"], ["2026-01-02"]]
