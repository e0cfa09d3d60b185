"""Fixtures for the Spark unit tests: a small local session and Kafka-shaped rows."""

import datetime as dt
import json

import pytest
from pyspark.sql import SparkSession
from spark_events import KAFKA_SOURCE


@pytest.fixture(scope="session")
def spark():
    session = (
        SparkSession.builder.master("local[1]")
        .appName("questline-spark-unit-tests")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "512m")
        # Fail instead of silently running interpreted when generated code is too big.
        .config("spark.sql.codegen.fallback", "false")
        .getOrCreate()
    )
    yield session
    session.stop()


@pytest.fixture
def kafka_rows(spark):
    """Build a DataFrame shaped like the Kafka source from values (dict, str or bytes)."""

    def build(*values, topic: str = "events", partition: int = 0):
        start = dt.datetime(2026, 11, 27, 23, 59, 59, tzinfo=dt.UTC)
        rows = []
        for offset, value in enumerate(values):
            if isinstance(value, dict):
                value = json.dumps(value)
            if isinstance(value, str):
                value = value.encode()
            rows.append((None, bytearray(value), topic, partition, offset, start + dt.timedelta(seconds=offset), 0))
        return spark.createDataFrame(rows, KAFKA_SOURCE)

    return build
