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
The compaction step of `maintain-tables` on its own. See docs/spark.md, "Compaction".
"""

from questline_spark import maintain_tables


def main(argv: list[str] | None = None) -> None:
    maintain_tables.main(argv, prog="compact-tables", doc=__doc__, steps=("compaction",))


if __name__ == "__main__":
    main()
