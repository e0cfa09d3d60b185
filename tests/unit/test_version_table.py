"""The version table is the one source of versions: what installs from elsewhere must agree."""

import re
from pathlib import Path

from questline_devkit.versions import repo_root, versions

ROOT = repo_root()


def _constraint(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = re.fullmatch(rf"{re.escape(name)}==(\S+)", line.strip())
        if match:
            return match.group(1)
    raise AssertionError(f"{name} is not pinned in constraints.txt")


def test_pyspark_pin_equals_the_spark_version():
    assert _constraint("pyspark") == versions()["spark"]["version"]


def test_kafka_connector_matches_the_spark_version_and_scala():
    spark = versions()["spark"]
    _group, artifact, version = spark["kafka_connector"].split(":")
    assert artifact == f"spark-sql-kafka-0-10_{spark['scala']}"
    assert version == spark["version"]


def test_every_component_says_why_it_was_chosen():
    for name, entry in versions().items():
        if isinstance(entry, dict) and "version" in entry:
            assert len(entry.get("why", "")) > 40, f"[{name}] needs a 'why' that explains the pin"


def test_java_homes_are_named_for_the_default_and_for_trino():
    java = versions()["java"]
    assert Path(java["default_home"]).name.startswith("java-17")
    assert "25" in Path(java["trino_home"]).name


def test_every_python_requirement_is_pinned():
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    pinned = {line.split("==")[0].lower() for line in lines if "==" in line}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        name = line.split("#")[0].strip()
        if name:
            assert name.lower() in pinned, f"{name} (requirements-dev.txt) has no pin in constraints.txt"
