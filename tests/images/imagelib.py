"""What the image tests share: the Dockerfiles, skaffold.yaml, and the build args that must equal
versions.toml (the one place each version is written)."""

import dataclasses
from pathlib import Path

import dockerfile

from questline_devkit.versions import repo_root, versions

REPO = repo_root()
DOCKERFILES = sorted(REPO.glob("images/*/Dockerfile"))

# Build args that are not versions: user ids and an optional Maven mirror.
NON_VERSION_ARGS = {"APP_UID", "SPARK_UID", "MAVEN_URL"}


def version_args() -> dict[str, str]:
    """Every build arg that carries a version, with its value from versions.toml."""
    v = versions()
    return {
        "PYTHON_BASE": v["images"]["python_base"],
        "JAVA_VERSION": v["java"]["version"],
        "SPARK_VERSION": v["spark"]["version"],
        "SPARK_KAFKA_JARS": " ".join([v["spark"]["kafka_connector"], *v["images"]["spark_kafka_connector_deps"]]),
        "HIVE_IMAGE": v["images"]["hive"],
        "POSTGRESQL_JDBC_VERSION": v["postgresql"]["jdbc_driver"],
    }


@dataclasses.dataclass(frozen=True)
class Dockerfile:
    path: Path
    instructions: tuple[dockerfile.Command, ...]

    @property
    def name(self) -> str:
        return self.path.parent.name

    def args(self) -> dict[str, str | None]:
        """ARG name -> default (None without one), over all stages."""
        found: dict[str, str | None] = {}
        for ins in self.instructions:
            if ins.cmd == "ARG":
                for declaration in ins.value:
                    name, _, default = declaration.partition("=")
                    found[name] = default.strip('"') if "=" in declaration else None
        return found

    def of(self, cmd: str) -> list[dockerfile.Command]:
        return [ins for ins in self.instructions if ins.cmd == cmd]

    def final_stage(self) -> list[dockerfile.Command]:
        last_from = max(i for i, ins in enumerate(self.instructions) if ins.cmd == "FROM")
        return list(self.instructions[last_from:])


def parse(path: Path) -> Dockerfile:
    return Dockerfile(path, tuple(dockerfile.parse_file(str(path))))
