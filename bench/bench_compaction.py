"""Report queries over many small files vs the same rows compacted, side by side in one run.

The layout the streaming job leaves after hours of 2-second triggers, built directly
(an equivalent file layout, not streamed: 5,000 triggers would take three hours):
--rows purchase rows in --files Parquet files per day, for --days closed days, in a
`purchases` table of a database of its own. Then, in this order: each query
--repeat times over the small files, one `compact-tables` run (wall time and CPU
of the driver), each query again over the compacted files. Prints per query the
median before and after and their ratio, and the row count and checksum of both
layouts (they must match). Queries: the report's purchase queries
(services/analytics sql 01-04) and the three of issue 19 (count, group-by,
approx_distinct).

Needs the stack up and `eval "$(questline-stack env)"`.
Usage: python bench/bench_compaction.py [--rows 1000000] [--files 5000] [--days 1] [--repeat 3]
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

from questline_events import TRINO_CATALOG
from questline_stack import settings as stack_settings

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[1]
SQL = REPO / "services/analytics/src/questline_analytics/sql"
QUERIES = {
    "count": "SELECT count(*) FROM purchases",
    "group-by": "SELECT item, item_type, count(*) AS n FROM purchases GROUP BY 1, 2 ORDER BY n DESC",
    "approx_distinct": "SELECT approx_distinct(player_id) FROM purchases",
    **{p.stem: p.read_text() for p in sorted(SQL.glob("0[1-4]_*.sql"))},
}


def build(database: str, warehouse: str, rows: int, files: int, days: int) -> None:
    """Write the small-file layout with Spark and register it (the jobs' own table DDL)."""
    import datetime as dt

    from pyspark.sql import functions as F

    from questline_spark import settings as settings_module
    from questline_spark.runtime import ensure_tables
    from questline_spark.session import spark_session
    from questline_spark.tables import table_specs

    os.environ.update(QUESTLINE_DATABASE=database, QUESTLINE_WAREHOUSE_DIR=warehouse)
    settings = settings_module.load()
    spark = spark_session("bench_compaction_build", settings, kafka=False)
    spec = table_specs()["purchases"]
    per_day = rows // days
    items = F.element_at(
        F.array(*map(F.lit, ["sword", "horse", "shield", "potion"])), (F.col("id") % 4 + 1).cast("int")
    )
    kinds = F.element_at(
        F.array(*map(F.lit, ["katana", "rapier", "sabre", None])), (F.col("id") % 7 % 4 + 1).cast("int")
    )
    for day in range(days):
        date = dt.date(2026, 10, 1) + dt.timedelta(days=day)
        generated = {
            "event_id": F.concat(F.lit(f"{date}-"), F.col("id").cast("string")),
            "event_type": F.concat(F.lit("purchase_"), items),
            "schema_version": F.lit(1),
            "timestamp": F.timestamp_seconds(
                F.lit(int(dt.datetime(2026, 10, 1).timestamp())) + day * 86400 + F.col("id") % 86400
            ),
            "source": F.lit("v1"),
            "player_id": F.concat(F.lit("player-"), (F.col("id") % 50_000).cast("string")),
            "description": F.concat(F.lit("bought a "), items),
            "host": F.concat(F.lit("host-"), (F.col("id") % 40).cast("string")),
            "user-agent": F.lit("bench/1"),
            "accept": F.lit("*/*"),
            "item": items,
            "item_type": kinds,
            "strength": (F.col("id") % 100).cast("int"),
            "price": (F.col("id") % 500).cast("int"),
        }
        columns = [
            (generated[f.name] if f.name in generated else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in spec.columns.fields
        ]
        (
            spark.range(per_day, numPartitions=2)
            .select(*columns)
            .repartition(files)
            .write.mode("overwrite")
            .parquet(f"{warehouse}/purchases/{spec.partition_column}={date}")
        )
    ensure_tables(spark, settings)  # registers the partitions
    spark.stop()


def timed(cursor, sql: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fingerprint(cursor) -> tuple:
    cursor.execute(
        'SELECT count(*), count(DISTINCT event_id), checksum(ROW(event_id, player_id, "timestamp", item, item_type, '
        'strength, price, host)), count(DISTINCT "$path") FROM purchases'
    )
    return tuple(cursor.fetchone())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--files", type=int, default=5000, help="files per day")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run_id = uuid.uuid4().hex[:8]
    database = f"bench_compaction_{run_id}"
    warehouse = f"{os.environ['QUESTLINE_HDFS_URI']}/questline-bench/compaction-{run_id}/warehouse"
    started = time.monotonic()
    build(database, warehouse, args.rows, args.files, args.days)
    print(
        f"built {args.rows:,} rows in {args.files:,} files x {args.days} day(s) in {time.monotonic() - started:.0f} s"
    )
    # The pipeline user: the benchmark's database is one of its own, which readers may not see.
    cursor = stack_settings.load().trino_connect(catalog=TRINO_CATALOG, schema=database).cursor()
    before_rows = fingerprint(cursor)
    before = {name: timed(cursor, sql, args.repeat) for name, sql in QUERIES.items()}

    env = {
        **os.environ,
        "QUESTLINE_DATABASE": database,
        "QUESTLINE_WAREHOUSE_DIR": warehouse,
        "QUESTLINE_COMPACT_QUIET_SECONDS": "0",
    }
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    subprocess.run([BIN / "compact-tables", "--table", "purchases"], env=env, check=True)
    wall = time.monotonic() - started
    after_usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after_usage.ru_utime - usage.ru_utime) + (after_usage.ru_stime - usage.ru_stime)

    after_rows = fingerprint(cursor)
    after = {name: timed(cursor, sql, args.repeat) for name, sql in QUERIES.items()}
    print(f"compaction: {wall:.1f} s wall, {cpu:.1f} s CPU (driver JVM + Python, local Spark)")
    print(f"rows, distinct ids, checksum, files: before {before_rows}, after {after_rows}")
    print(f"{'query':32} {'small files':>12} {'compacted':>10} {'ratio':>7}")
    for name in QUERIES:
        print(f"{name:32} {before[name]:>10.2f} s {after[name]:>8.2f} s {before[name] / after[name]:>6.1f}x")
    if before_rows[:3] != after_rows[:3]:
        raise SystemExit("the compacted rows differ from the small-file rows")


if __name__ == "__main__":
    main()
