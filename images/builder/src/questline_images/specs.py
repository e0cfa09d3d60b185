"""What each image is built from: its Dockerfile, its build args (every version from versions.toml)
and the tag the chart expects. The one place those build args are computed: the builder passes
them, and tests/images checks that each Dockerfile's ARG defaults and skaffold.yaml agree."""

import dataclasses
import tomllib
from pathlib import Path

from questline_devkit.versions import repo_root, versions

NAMES = ("game-api", "spark", "postgres", "kafka", "hadoop", "hive-metastore", "trino")


@dataclasses.dataclass(frozen=True)
class ImageSpec:
    name: str
    tag: str
    build_args: dict[str, str]

    @property
    def repository(self) -> str:
        return f"questline/{self.name}"

    @property
    def ref(self) -> str:
        """The local reference (buildah/podman store it as localhost/questline/<name>:<tag>)."""
        return f"localhost/{self.repository}:{self.tag}"

    @property
    def dockerfile(self) -> Path:
        return repo_root() / "images" / self.name / "Dockerfile"

    @property
    def ignorefile(self) -> Path:
        return repo_root() / "images" / self.name / "Dockerfile.dockerignore"


def _coordinate_version(coordinates: list[str], artifact: str) -> str:
    (version,) = [c.split(":")[2] for c in coordinates if c.split(":")[1] == artifact]
    return version


def api_version() -> str:
    pyproject = repo_root() / "services" / "game-api" / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["version"]


def build_args(name: str, base_image: str | None = None) -> dict[str, str]:
    """The build args of one image; base_image replaces the laptop default (Docker Hub's Debian)."""
    v = versions()
    base = {"BASE_IMAGE": base_image or v["base"]["laptop_image"]}
    java = {"JAVA_VERSION": v["java"]["image_version"]}
    by_name = {
        "game-api": {"APP_VERSION": api_version()},
        "spark": {
            **java,
            "SPARK_VERSION": v["spark"]["version"],
            "SPARK_KAFKA_JARS": " ".join([v["spark"]["kafka_connector"], *v["images"]["spark_kafka_connector_deps"]]),
        },
        "postgres": {"POSTGRES_VERSION": v["postgresql"]["image_version"]},
        "kafka": {
            **java,
            "KAFKA_VERSION": v["kafka"]["version"],
            "SCALA_VERSION": v["kafka"]["scala"],
            "SLF4J_VERSION": _coordinate_version(v["kafka"]["logging_jars"], "slf4j-api"),
            "LOG4J_VERSION": _coordinate_version(v["kafka"]["logging_jars"], "log4j-slf4j2-impl"),
        },
        "hadoop": {**java, "HADOOP_VERSION": v["hadoop"]["version"]},
        "hive-metastore": {
            **java,
            "HIVE_METASTORE_VERSION": v["hive_metastore"]["version"],
            "HADOOP_VERSION": v["hadoop"]["version"],
            "POSTGRESQL_JDBC_VERSION": v["postgresql"]["jdbc_driver"],
            "METASTORE_EXTRA_JARS": " ".join(v["hive_metastore"]["hadoop_gap_jars"]),
        },
        "trino": {"JAVA_VERSION": v["java"]["image_trino_version"], "TRINO_VERSION": v["trino"]["version"]},
    }
    if name not in by_name:
        raise KeyError(f"no image {name!r} (expected one of {', '.join(NAMES)})")
    return {**base, **by_name[name]}


def tag(name: str) -> str:
    """The tag the chart's values default to: the version of the component the image runs."""
    v = versions()
    return {
        "game-api": api_version(),
        "spark": v["spark"]["version"],
        "postgres": v["postgresql"]["image_version"],
        "kafka": v["kafka"]["version"],
        "hadoop": v["hadoop"]["version"],
        "hive-metastore": v["hive_metastore"]["version"],
        "trino": v["trino"]["version"],
    }[name]


def spec(name: str, base_image: str | None = None) -> ImageSpec:
    return ImageSpec(name, tag(name), build_args(name, base_image))
