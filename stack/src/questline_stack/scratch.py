"""Names of one test or benchmark run on the local stack: a Kafka topic, a database and an HDFS
directory, made for the run and removed after it.

The `events` topic and the `questline` tables are the user's: `make demo` streams the topic into
the tables and reports over them, so anything a test posted there would show in the next report.
Tests and benchmarks therefore write only to names of their own (`Scratch`), and `snapshot()`
reads the user's data so that a test session can prove it left them unchanged.

Every name carries the pid of the process that made it: `sweep()` removes what a killed run left
behind without touching a run still going.
"""

import contextlib
import os
import re
import time
import uuid
from collections.abc import Iterable

from questline_devkit import process
from questline_events import DATABASE, TABLES, TOPIC_EVENTS, TRINO_CATALOG
from questline_stack.components.hdfs import Hdfs
from questline_stack.settings import Settings

__all__ = ["HDFS_DIR", "Scratch", "end_offsets", "records_between", "remove", "snapshot", "sweep"]

HDFS_DIR = "/questline-tests"
_NAME = re.compile(r"questline[-_]test[-_](?P<label>[a-z0-9]+)[-_](?P<pid>\d+)[-_][0-9a-f]+")
# Names of the runs before scratch names existed; nothing creates them any more.
_OLD_DATABASES = re.compile(
    r"questline_(it|web|fresh|bench|names)_[0-9a-f]+|report_test_[0-9a-f]+|trino_stack_test_[0-9a-f]+"
)
_OLD_TOPICS = re.compile(r"(spark-it|names-e2e|bench-stream)-[0-9a-f]+")
# bench_api's topic, named after its process before scratch names existed.
_OLD_NAME = re.compile(r"bench-api-(?P<pid>\d+)")
_OLD_HDFS_DIRS = ("/questline-bench", "/tmp/questline-report-test", "/tmp/questline-tests")


class Scratch:
    """A topic, a database and an HDFS directory of one run: `with Scratch(stack, "api") as scratch:`.

    `env` holds the variables every component reads those names from (the API, the Spark
    jobs, the dashboard and the report): pass it to whatever the run starts.
    """

    def __init__(self, stack: Settings, label: str, partitions: int = 2, *, make_topic: bool = True):
        if not re.fullmatch(r"[a-z0-9]+", label):
            raise ValueError(f"scratch label {label!r}: lower-case letters and digits only")
        self.stack = stack
        self.partitions = partitions
        self.make_topic = make_topic  # False for a run that needs only a database (no Kafka)
        suffix = f"{label}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        self.database = f"questline_test_{suffix}"
        self.topic = f"questline-test-{suffix.replace('_', '-')}"
        self.hdfs_dir = f"{HDFS_DIR}/{self.topic}"

    @property
    def root(self) -> str:
        """The run's HDFS directory as a URI: the warehouse, the checkpoint and anything else below it."""
        return f"{self.stack.hdfs_uri}{self.hdfs_dir}"

    @property
    def location(self) -> str:
        """The database's directory in HDFS (its tables below it)."""
        return f"{self.root}/warehouse"

    @property
    def env(self) -> dict[str, str]:
        return {
            "QUESTLINE_EVENTS_TOPIC": self.topic,
            "QUESTLINE_DATABASE": self.database,
            "QUESTLINE_WAREHOUSE_DIR": self.location,
            "QUESTLINE_STREAM_CHECKPOINT_DIR": f"{self.root}/checkpoint",
        }

    def create(self) -> "Scratch":
        from confluent_kafka.admin import NewTopic

        if self.make_topic:
            admin = _admin(self.stack)  # must outlive its futures
            admin.create_topics([NewTopic(self.topic, self.partitions, 1)])[self.topic].result(timeout=60)
        return self

    def remove(self) -> None:
        topics = [self.topic] if self.make_topic else []
        remove(self.stack, topics=topics, databases=[self.database], hdfs_dirs=[self.hdfs_dir])

    def __enter__(self) -> "Scratch":
        return self.create()

    def __exit__(self, *exc) -> None:
        self.remove()


def _admin(stack: Settings):
    from confluent_kafka.admin import AdminClient

    return AdminClient(stack.kafka_config(**{"socket.timeout.ms": 5000}))  # the admin


def _kafka_up(stack: Settings) -> bool:
    return process.port_open(stack.host, stack.kafka_port)


def _trino_up(stack: Settings) -> bool:
    return process.port_open(stack.host, stack.trino_port)


def _hdfs_up(stack: Settings) -> bool:
    return process.port_open(stack.host, stack.namenode_http_port)


@contextlib.contextmanager
def _trino(stack: Settings):
    # The pipeline user: the only one that may drop what the runs made.
    with contextlib.closing(stack.trino_connect(catalog=TRINO_CATALOG)) as conn:
        cursor = conn.cursor()

        def query(sql: str) -> list[list]:
            cursor.execute(sql)
            return cursor.fetchall()

        yield query


def _drop_database(query, name: str) -> None:
    """Drop a database and every table in it (the files are removed with their HDFS directory)."""
    import trino

    try:
        tables = [row[0] for row in query(f'SHOW TABLES FROM "{name}"')]
    except trino.exceptions.TrinoUserError as exc:
        if exc.error_name == "SCHEMA_NOT_FOUND":
            return
        raise
    for table in tables:
        query(f'DROP TABLE IF EXISTS "{name}"."{table}"')
    query(f'DROP SCHEMA IF EXISTS "{name}"')


def remove(
    stack: Settings, *, topics: Iterable[str] = (), databases: Iterable[str] = (), hdfs_dirs: Iterable[str] = ()
) -> None:
    """Drop the databases (with their tables), delete the topics and the HDFS directories.

    A server that is not running holds nothing of this run (a Kafka-only test never
    started Trino), so it is passed over."""
    databases, topics, hdfs_dirs = list(databases), list(topics), list(hdfs_dirs)
    if databases and _trino_up(stack):
        with _trino(stack) as query:
            for name in databases:
                _drop_database(query, name)
    if topics and _kafka_up(stack):
        from confluent_kafka import KafkaError, KafkaException

        admin = _admin(stack)  # must outlive its futures
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            try:
                future.result(60)
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    raise
    if hdfs_dirs and _hdfs_up(stack):
        hdfs = Hdfs(stack)
        for path in hdfs_dirs:
            hdfs.delete(path)


def _finished(name: str, old: re.Pattern, pid: int | None) -> bool:
    """A scratch name whose run is over: its process is gone (or is `pid`), or it is of the old naming."""
    match = _NAME.fullmatch(name.replace("-", "_")) or _OLD_NAME.fullmatch(name)
    if match:
        return int(match["pid"]) == pid or not process.alive(int(match["pid"]))
    return bool(old.fullmatch(name))


def sweep(stack: Settings, *, including_pid: int | None = None) -> list[str]:
    """Remove the topics, databases and HDFS directories of runs that are over (and of the run
    `including_pid`, when it is ending); return what was removed."""
    topics, databases, hdfs_dirs = [], [], []
    if _kafka_up(stack):
        names = _admin(stack).list_topics(timeout=10).topics
        topics = sorted(t for t in names if _finished(t, _OLD_TOPICS, including_pid))
    if _trino_up(stack):
        with _trino(stack) as query:
            names = [row[0] for row in query("SHOW SCHEMAS")]
        databases = sorted(d for d in names if _finished(d, _OLD_DATABASES, including_pid))
    if _hdfs_up(stack):
        hdfs = Hdfs(stack)
        # Everything below HDFS_DIR belongs to a run; only the scratch names of live runs stay.
        anything = re.compile(".*")
        hdfs_dirs = [f"{HDFS_DIR}/{d}" for d in hdfs.list_dir(HDFS_DIR) if _finished(d, anything, including_pid)]
        hdfs_dirs += [d for d in _OLD_HDFS_DIRS if hdfs.list_dir(d)]
    remove(stack, topics=topics, databases=databases, hdfs_dirs=hdfs_dirs)
    return [*(f"topic {t}" for t in topics), *(f"database {d}" for d in databases), *(f"hdfs {p}" for p in hdfs_dirs)]


def end_offsets(stack: Settings, topic: str) -> dict[int, int]:
    """The end offset of each partition of `topic` ({} if there is no such topic), read as the admin."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(stack.kafka_config(**{"group.id": f"questline-offsets-{uuid.uuid4().hex}"}))
    try:
        metadata = consumer.list_topics(topic, timeout=10).topics[topic]
        if metadata.error is not None:
            return {}
        return {p: _high_watermark(consumer, TopicPartition(topic, p)) for p in metadata.partitions}
    finally:
        consumer.close()


def _high_watermark(consumer, partition, timeout: float = 60) -> int:
    """A partition's end offset; a topic just created (or a broker just started) may not have
    its leader yet, which Kafka answers with a retriable error: ask again until it has."""
    from confluent_kafka import KafkaError, KafkaException

    not_ready = {KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.UNKNOWN_TOPIC_OR_PART}
    deadline = time.monotonic() + timeout
    while True:
        try:
            return consumer.get_watermark_offsets(partition, timeout=10)[1]
        except KafkaException as exc:
            error = exc.args[0]
            if not (error.retriable() or error.code() in not_ready) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def records_between(
    stack: Settings, topic: str, start: dict[int, int], end: dict[int, int], timeout: float = 60
) -> list[tuple[bytes | None, bytes]]:
    """(key, value) of every record of `topic` from the offsets `start` up to `end` (as
    end_offsets gives them), partition by partition, read as the admin; other writers may share
    the topic."""
    from confluent_kafka import Consumer, TopicPartition

    todo = {p: stop for p, stop in end.items() if stop > start.get(p, 0)}
    if not todo:
        return []
    consumer = Consumer(stack.kafka_config(**{"group.id": f"questline-read-{uuid.uuid4().hex}"}))
    try:
        consumer.assign([TopicPartition(topic, p, start.get(p, 0)) for p in todo])
        records = []
        deadline = time.monotonic() + timeout
        while todo and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None or message.error() or message.partition() not in todo:
                continue
            if message.offset() < todo[message.partition()]:
                records.append((message.key(), message.value()))
            if message.offset() + 1 >= todo[message.partition()]:
                del todo[message.partition()]
    finally:
        consumer.close()
    if todo:
        raise TimeoutError(f"partitions {sorted(todo)} of {topic} were not read up to {end} within {timeout}s")
    return records


def snapshot(stack: Settings) -> dict[str, dict | None]:
    """The user's data as far as it can be read now: the end offsets of the `events` topic and
    the row count of each `questline` table (None for a server that is not running)."""
    topic = end_offsets(stack, TOPIC_EVENTS) if _kafka_up(stack) else None
    tables = None
    if _trino_up(stack):
        import trino

        try:
            with _trino(stack) as query:
                present = {row[0] for row in query("SHOW SCHEMAS")}
                if DATABASE not in present:
                    tables = {}
                else:
                    existing = {row[0] for row in query(f'SHOW TABLES FROM "{DATABASE}"')}
                    count = lambda table: query(f'SELECT count(*) FROM "{DATABASE}"."{table}"')[0][0]  # noqa: E731
                    tables = {table: count(table) for table in TABLES if table in existing}
        except (trino.exceptions.TrinoQueryError, trino.exceptions.TrinoConnectionError, OSError):
            tables = None  # Trino is starting, or its metastore is not up yet
    return {"topic": topic, "tables": tables}
