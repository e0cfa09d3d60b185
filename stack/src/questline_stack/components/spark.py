"""Spark runs inside the jobs (pyspark, local[2]); the stack only fetches the Kafka
connector jars ahead of time so jobs start offline."""

from pathlib import Path

from questline_devkit import artifacts
from questline_devkit.versions import versions
from questline_stack.components import Component
from questline_stack.settings import Settings

# pyspark ships Spark itself; only the connector's own artifacts are added.
_PROVIDED_BY_PYSPARK = (
    "org.apache.spark:spark-tags_2.13",
    "org.slf4j:slf4j-api",
    "org.apache.hadoop:hadoop-client-runtime",
    "org.apache.hadoop:hadoop-client-api",
    "org.scala-lang:scala-library",
    "org.scala-lang.modules:scala-parallel-collections_2.13",
    "com.google.code.findbugs:jsr305",
    "org.xerial.snappy:snappy-java",
    "org.lz4:lz4-java",
    "at.yawk.lz4:lz4-java",
    "com.github.luben:zstd-jni",
)


def _jars_dir(settings: Settings) -> Path:
    return settings.cache_dir / "jars" / f"spark-kafka-{versions()['spark']['version']}"


def connector_jars(settings: Settings) -> list[Path]:
    """The jars a Spark job needs on spark.jars to read Kafka (fetched if missing)."""
    return artifacts.resolve_jars(
        "spark-kafka", [versions()["spark"]["kafka_connector"]], _jars_dir(settings), exclusions=_PROVIDED_BY_PYSPARK
    )


class Spark(Component):
    name = "spark"

    def fetch(self) -> None:
        connector_jars(self.s)
