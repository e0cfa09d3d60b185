"""compact_tables: rewrite partitions of many small files into a few large ones, swapped in atomically.

Every trigger of the streaming job adds a file per table, date and task; Trino's
planning and every query's latency grow with the file count. This job rewrites a
partition's visible files into ceil(bytes / target) files in a new hidden
directory and moves the partition's location to it in the metastore with a
compare-and-set: a query sees the old files or the new ones, never both, never
neither. It is safe to kill at any point and to run twice at once (a per-partition
lock; the loser of a race skips). Closed partitions only (day over, newest file
older than QUESTLINE_COMPACT_QUIET_SECONDS), unless --include-open. One log line
per partition (files and bytes before/after, rows, seconds) and one per pass.
See docs/spark.md, "Compaction".
"""

import argparse
import dataclasses
import time

from questline_spark import settings as settings_module
from questline_spark.compaction import Compactor, Outcome, Policy
from questline_spark.partition_locations import PartitionLocations
from questline_spark.runtime import log, run
from questline_spark.session import spark_session
from questline_spark.sink import Warehouse
from questline_spark.tables import table_specs


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="compact-tables", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--table", action="append", help="only this table (repeatable; default: every table)")
    parser.add_argument(
        "--include-open", action="store_true", default=None, help="also compact quiet partitions of today"
    )
    parser.add_argument(
        "--loop", type=float, metavar="SECONDS", help="run a pass every SECONDS until stopped (default: one pass)"
    )
    return parser.parse_args(argv)


def summary(outcomes: list[Outcome], seconds: float) -> str:
    done = [o for o in outcomes if o.action == "compacted"]
    return (
        f"compaction pass: {len(done)} of {len(outcomes)} partitions compacted, "
        f"files {sum(o.files_before for o in done)} -> {sum(o.files_after for o in done)}, "
        f"bytes {sum(o.bytes_before for o in done)} -> {sum(o.bytes_after for o in done)}, "
        f"rows {sum(o.rows for o in done)}, late files moved {sum(o.late_files_moved for o in outcomes)}, "
        f"replaced files deleted {sum(o.replaced_files_deleted for o in outcomes)}, {seconds:.1f} s"
    )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)

    def job() -> None:
        settings = settings_module.load()
        compaction = settings_module.load_compaction()
        if args.include_open is not None:
            compaction = dataclasses.replace(compaction, include_open=True)
        loop_seconds = compaction.loop_seconds if args.loop is None else args.loop
        specs = table_specs()
        unknown = set(args.table or ()) - set(specs)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise settings_module.SettingsError(f"--table {names}: no such table (expected one of {', '.join(specs)})")
        specs = {name: spec for name, spec in specs.items() if not args.table or name in args.table}
        spark = spark_session("compact_tables", settings, kafka=False)
        policy = Policy(
            target_file_bytes=compaction.target_file_mb * 1024 * 1024,
            min_files=compaction.min_files,
            quiet_seconds=compaction.quiet_seconds,
            keep_replaced_seconds=compaction.keep_replaced_seconds,
            lock_timeout_seconds=compaction.lock_timeout_seconds,
            include_open=compaction.include_open,
        )
        locations = PartitionLocations(compaction.metastore_db_url, settings.database, compaction.metastore_db_password)
        compactor = Compactor(spark, Warehouse(spark, settings.warehouse_dir, settings.staging_dir), locations, policy)
        while True:
            started = time.monotonic()
            log.info(summary(compactor.compact(specs), time.monotonic() - started))
            if not loop_seconds:
                break
            time.sleep(loop_seconds)
        locations.close()
        spark.stop()

    run(job)


if __name__ == "__main__":
    main()
