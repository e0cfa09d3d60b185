"""maintain_tables: the maintenance run: retention, erasure, compaction, in that order, then erasure audits.

Every step replaces a partition's files the same way (compaction.py): a new hidden
generation, swapped in with a compare-and-set of the partition's location in the
metastore, the replaced files deleted after a grace period by a later run.

- retention: partitions older than their table keeps (QUESTLINE_RETENTION_DAYS,
  QUESTLINE_QUARANTINE_RETENTION_DAYS, QUESTLINE_RETENTION_DAYS_BY_TABLE) are
  emptied, then dropped with their files once the grace period is over;
- erasure: every partition holding a row of a player whose erasure was requested
  (DELETE /v1/players/{id}) is rewritten without that player's rows; a request
  whose rows and old files are all gone gets its rows in `erasure_audit`;
- compaction: closed partitions of many small files rewritten into a few large ones
  (day over, newest file older than QUESTLINE_COMPACT_QUIET_SECONDS, unless --include-open).

Safe to kill at any point and to run twice at once (per-partition locks; the loser
of a race skips). One log line per partition touched and one per pass.
See docs/spark.md, "Compaction", "Retention" and "Erasure".
"""

import argparse
import dataclasses
import time

from questline_spark import settings as settings_module
from questline_spark.compaction import Compactor, Outcome, Policy
from questline_spark.erasure import Erasure
from questline_spark.partition_locations import PartitionLocations
from questline_spark.retention import expire
from questline_spark.runtime import ensure_tables, log, run
from questline_spark.session import spark_session
from questline_spark.sink import Warehouse
from questline_spark.tables import table_specs

STEPS = ("retention", "erasure", "compaction")


def parse_args(argv: list[str] | None, prog: str, doc: str, steps: tuple[str, ...]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", action="append", help="only this table (repeatable; default: every table)")
    if len(steps) > 1:
        parser.add_argument(
            "--step", action="append", choices=steps, help=f"only this step (repeatable; default: {', '.join(steps)})"
        )
    parser.add_argument(
        "--include-open", action="store_true", default=None, help="also compact quiet partitions of today"
    )
    parser.add_argument(
        "--loop", type=float, metavar="SECONDS", help="run a pass every SECONDS until stopped (default: one pass)"
    )
    return parser.parse_args(argv)


def summary(outcomes: list[Outcome], seconds: float) -> str:
    done = [o for o in outcomes if o.action == "compacted"]
    changed = [o for o in outcomes if o.action in ("erased", "expired", "dropped")]
    return (
        f"maintenance pass: {len(done)} of {len(outcomes)} partitions compacted, "
        f"files {sum(o.files_before for o in done)} -> {sum(o.files_after for o in done)}, "
        f"bytes {sum(o.bytes_before for o in done)} -> {sum(o.bytes_after for o in done)}, "
        f"rows {sum(o.rows for o in done)}; "
        f"erased {sum(o.action == 'erased' for o in changed)} (rows removed "
        f"{sum(o.rows_removed for o in changed)}), expired {sum(o.action == 'expired' for o in changed)}, "
        f"dropped {sum(o.action == 'dropped' for o in changed)}; late files moved "
        f"{sum(o.late_files_moved for o in outcomes)}, replaced files deleted "
        f"{sum(o.replaced_files_deleted for o in outcomes)}, {seconds:.1f} s"
    )


def main(
    argv: list[str] | None = None, *, prog: str = "maintain-tables", doc: str = __doc__, steps: tuple[str, ...] = STEPS
) -> None:
    args = parse_args(argv, prog, doc, steps)
    chosen = tuple(s for s in steps if not getattr(args, "step", None) or s in args.step)

    def job() -> None:
        settings = settings_module.load()
        compaction = settings_module.load_compaction()
        retention = settings_module.load_retention()
        if args.include_open is not None:
            compaction = dataclasses.replace(compaction, include_open=True)
        loop_seconds = compaction.loop_seconds if args.loop is None else args.loop
        specs = table_specs()
        unknown = set(args.table or ()) - set(specs)
        if unknown:
            names = ", ".join(sorted(unknown))
            raise settings_module.SettingsError(f"--table {names}: no such table (expected one of {', '.join(specs)})")
        specs = {name: spec for name, spec in specs.items() if not args.table or name in args.table}
        spark = spark_session(prog.replace("-", "_"), settings, kafka=False)
        policy = Policy(
            target_file_bytes=compaction.target_file_mb * 1024 * 1024,
            min_files=compaction.min_files,
            quiet_seconds=compaction.quiet_seconds,
            keep_replaced_seconds=compaction.keep_replaced_seconds,
            lock_timeout_seconds=compaction.lock_timeout_seconds,
            include_open=compaction.include_open,
            pause_before=compaction.pause_before,
        )
        # Like every job: the database and tables may not exist yet (a first deployment).
        catalog = ensure_tables(spark, settings).catalog
        locations = PartitionLocations(compaction.metastore_db_url, settings.database, compaction.metastore_db_password)
        warehouse = Warehouse(spark, settings.warehouse_dir, settings.staging_dir)
        compactor = Compactor(spark, warehouse, locations, policy, drop_partition=catalog.unregister_partition)
        erasure = Erasure(spark, compactor, catalog, specs) if "erasure" in chosen else None
        while True:
            started = time.monotonic()
            compactor.delete_stale_staging()
            outcomes = expire(compactor, specs, retention) if "retention" in chosen else []
            outcomes += erasure.run() if erasure else []
            outcomes += compactor.compact(specs) if "compaction" in chosen else []
            completed = erasure.finish() if erasure else 0
            log.info("%s; erasures completed %d", summary(outcomes, time.monotonic() - started), completed)
            if not loop_seconds:
                break
            time.sleep(loop_seconds)
        locations.close()
        spark.stop()

    run(job)


if __name__ == "__main__":
    main()
