"""What the image tests share: the Dockerfiles, skaffold.yaml, and the build args that must equal
versions.toml (the one place each version is written; questline_images.specs derives the args)."""

import dataclasses
from pathlib import Path

import dockerfile

from questline_devkit.versions import repo_root
from questline_images import specs

REPO = repo_root()
DOCKERFILES = sorted(REPO.glob("images/*/Dockerfile"))

# Build args that are not versions: the fixed user ids and an optional Maven mirror.
NON_VERSION_ARGS = {
    "APP_UID",
    "SPARK_UID",
    "POSTGRES_UID",
    "KAFKA_UID",
    "HADOOP_UID",
    "HIVE_UID",
    "TRINO_UID",
    "MAVEN_URL",
}


def version_args(name: str) -> dict[str, str]:
    """Every build arg of image `name` that carries a version, with its value from versions.toml."""
    return specs.build_args(name)


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
                    value = default.strip('"') if "=" in declaration else None
                    # A stage re-declares an ARG without a default to use the global one.
                    if found.get(name) is None:
                        found[name] = value
                    elif value is not None and value != found[name]:
                        found[name] = f"conflicting defaults {found[name]!r} and {value!r}"
        return found

    def of(self, cmd: str) -> list[dockerfile.Command]:
        return [ins for ins in self.instructions if ins.cmd == cmd]

    def context_sources(self) -> list[str]:
        """Every path the build reads from the context: COPY/ADD sources (not --from a stage) and
        RUN --mount=type=bind sources (images/common/apt-install.sh)."""
        sources = []
        for ins in self.of("COPY") + self.of("ADD"):
            if not any(flag.startswith("--from=") for flag in ins.flags):
                sources += ins.value[:-1]
        for ins in self.of("RUN"):
            for flag in ins.flags:
                if flag.startswith("--mount="):
                    options = dict(o.split("=", 1) for o in flag.removeprefix("--mount=").split(",") if "=" in o)
                    if options.get("type") == "bind" and "from" not in options:
                        sources.append(options["source"])
        return sources

    def final_stage(self) -> list[dockerfile.Command]:
        last_from = max(i for i, ins in enumerate(self.instructions) if ins.cmd == "FROM")
        return list(self.instructions[last_from:])


def parse(path: Path) -> Dockerfile:
    return Dockerfile(path, tuple(dockerfile.parse_file(str(path))))
