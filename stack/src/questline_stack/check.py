"""End-to-end check of a running local stack, one real round trip per component:

1. Kafka: produce a record to a scratch topic and consume it back.
2. HDFS: write a file through WebHDFS and read it back.
3. Spark: write a small Parquet table into HDFS.
4. Hive metastore + Trino: register that table in the metastore through Trino's hive
   catalog, then query it and get the exact row count back.

The table is registered the way the Spark jobs register theirs (spark-apps/
questline_spark/catalog.py): Spark 4.2's built-in Hive client (2.3) calls thrift
methods the Hive 4.0 metastore no longer serves ("Invalid method name: 'get_table'").
Spark's isolated Hive 4.0 client works (spark.sql.hive.metastore.version=4.0.1), but
needs 285 MB / 250 extra jars and added about a minute to every session start here.
"""

import json
import os
import time
import urllib.error
import urllib.request
import uuid

from questline_devkit.artifacts import log
from questline_stack.settings import Settings

CHECK_TOPIC = "questline-stack-check"
CHECK_SCHEMA = "questline_stack_check"


class CheckFailed(AssertionError):
    pass


def check_kafka(s: Settings, run_id: str) -> None:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(s.kafka_config())  # the admin: it creates the check topic
    if CHECK_TOPIC not in admin.list_topics(timeout=10).topics:
        for future in admin.create_topics([NewTopic(CHECK_TOPIC, num_partitions=1, replication_factor=1)]).values():
            future.result(30)
    producer = Producer(s.kafka_config(**{"enable.idempotence": True, "acks": "all"}))
    producer.produce(CHECK_TOPIC, key=run_id.encode(), value=run_id.encode())
    if producer.flush(30) != 0:
        raise CheckFailed("Kafka did not acknowledge the check record within 30s")
    consumer = Consumer(s.kafka_config(**{"group.id": f"stack-check-{run_id}", "auto.offset.reset": "earliest"}))
    consumer.subscribe([CHECK_TOPIC])
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is not None and not msg.error() and msg.value() == run_id.encode():
                log("check: Kafka round trip ok")
                return
    finally:
        consumer.close()
    raise CheckFailed(f"the record produced to {CHECK_TOPIC} was not consumed back within 60s")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _webhdfs(s: Settings, method: str, path: str, op: str, data: bytes | None = None) -> bytes:
    """One WebHDFS call. CREATE and OPEN answer with a redirect to a DataNode; the
    second step goes there (urllib will not resend a PUT body on a 307 itself)."""
    url = f"http://{s.host}:{s.namenode_http_port}/webhdfs/v1{path}?op={op}&user.name={os.environ.get('USER', 'root')}"
    if op == "CREATE":
        url += "&overwrite=true"
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, method=method), timeout=30) as resp:
            return resp.read()
    except urllib.error.HTTPError as exc:
        if exc.code not in (301, 302, 307):
            raise
        location = exc.headers["Location"]
    with urllib.request.urlopen(urllib.request.Request(location, method=method, data=data), timeout=30) as resp:
        return resp.read()


def check_hdfs(s: Settings, run_id: str) -> None:
    path = f"/tmp/questline-stack-check/{run_id}.txt"
    payload = f"questline stack check {run_id}\n".encode()
    _webhdfs(s, "PUT", path, "CREATE", payload)
    back = _webhdfs(s, "GET", path, "OPEN")
    if back != payload:
        raise CheckFailed(f"HDFS returned {back!r} for {path}, expected {payload!r}")
    _webhdfs(s, "DELETE", path, "DELETE")
    log("check: HDFS write/read ok")


def spark_session(s: Settings, app_name: str):
    """A local Spark session wired to the stack's HDFS and the Kafka connector."""
    from pyspark.sql import SparkSession

    env = s.client_env()
    os.environ.setdefault("JAVA_HOME", env["JAVA_HOME"])
    return (
        SparkSession.builder.master("local[1]")
        .appName(app_name)
        .config("spark.jars", env["QUESTLINE_SPARK_JARS"])
        .config("spark.driver.memory", "768m")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.hadoop.fs.defaultFS", s.hdfs_uri)
        .getOrCreate()
    )


def check_spark_to_trino(s: Settings, run_id: str, rows: int = 1234) -> None:

    table = f"check_{run_id}"
    location = f"{s.hdfs_uri}/tmp/questline-stack-check/{table}"
    spark = spark_session(s, "questline-stack-check")
    try:
        spark.range(rows).selectExpr("id", "cast(id % 7 as int) as bucket").write.mode("overwrite").parquet(location)
    finally:
        spark.stop()
    log(f"check: Spark wrote {rows} rows as Parquet to {location}")

    conn = s.trino_connect(catalog=s.trino_catalog)  # the pipeline: it creates a schema and a table
    cur = conn.cursor()

    def sql(statement: str) -> list:
        cur.execute(statement)
        return cur.fetchall()

    sql(f"CREATE SCHEMA IF NOT EXISTS {s.trino_catalog}.{CHECK_SCHEMA}")
    sql(
        f"CREATE TABLE {s.trino_catalog}.{CHECK_SCHEMA}.{table} (id bigint, bucket integer) "
        f"WITH (format = 'PARQUET', external_location = '{location}')"
    )
    log(f"check: registered {s.trino_catalog}.{CHECK_SCHEMA}.{table} in the metastore")
    try:
        registered = sql(f"SHOW TABLES FROM {s.trino_catalog}.{CHECK_SCHEMA} LIKE '{table}'")
        if registered != [[table]]:
            raise CheckFailed(f"the metastore does not list {table}: {registered}")
        [[count, distinct]] = sql(f"SELECT count(*), count(DISTINCT id) FROM {s.trino_catalog}.{CHECK_SCHEMA}.{table}")
    finally:
        sql(f"DROP TABLE {s.trino_catalog}.{CHECK_SCHEMA}.{table}")  # external: the files stay, the metadata goes
    if (count, distinct) != (rows, rows):
        raise CheckFailed(f"Trino counted {count} rows ({distinct} distinct) in {table}, expected {rows}")
    log(f"check: Trino read exactly {count} rows back")


def run_check(s: Settings) -> int:
    run_id = uuid.uuid4().hex[:12]
    started = time.monotonic()
    steps = [("kafka", check_kafka), ("hdfs", check_hdfs), ("spark->hive->trino", check_spark_to_trino)]
    for name, step in steps:
        try:
            step(s, run_id)
        except Exception as exc:
            print(json.dumps({"check": name, "ok": False, "error": str(exc)}))
            log(f"check FAILED at {name}: {exc}")
            return 1
    log(f"stack check passed in {time.monotonic() - started:.1f}s")
    return 0
