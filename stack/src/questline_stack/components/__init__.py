"""Stack components, in start order. Each one knows how to fetch its artifacts,
prepare its state (idempotently), start, probe and stop its processes."""

import abc
from pathlib import Path

from questline_devkit import process
from questline_stack.settings import Settings


class Component(abc.ABC):
    name: str
    # Process names this component runs (pid/log files use them); empty for
    # components that only fetch artifacts (Spark's connector jars).
    processes: tuple[str, ...] = ()

    def __init__(self, settings: Settings):
        self.s = settings

    @property
    def state_home(self) -> Path:
        """This component's data, configs and temp files: <state dir>/<name>."""
        return self.s.state_dir / self.name

    @abc.abstractmethod
    def fetch(self) -> None:
        """Download what the component needs into the cache (no-op when cached)."""

    def start(self) -> None:  # noqa: B027 - components without processes start nothing
        """Prepare state and start every process that is not running; wait until ready."""

    def ready(self) -> bool:
        """True when the component answers its clients."""
        return True

    def stop(self) -> None:
        for name in reversed(self.processes):
            process.stop(self.s, name)

    def pids(self) -> dict[str, int | None]:
        return {name: process.running_pid(self.s, name) for name in self.processes}


def all_components(settings: Settings) -> list[Component]:
    from questline_stack.components.hdfs import Hdfs
    from questline_stack.components.kafka import Kafka
    from questline_stack.components.metastore import HiveMetastore
    from questline_stack.components.postgres import Postgres
    from questline_stack.components.spark import Spark
    from questline_stack.components.trino import Trino

    return [cls(settings) for cls in (Postgres, Kafka, Hdfs, HiveMetastore, Trino, Spark)]
