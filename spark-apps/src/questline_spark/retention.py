"""Retention: partitions older than their table keeps are dropped with their files, never mid-query.

A partition whose date is more than `RetentionSettings.days_of(table)` days before
today (UTC) expires in two steps of the one swap mechanism (compaction.py):

1. its location is swapped to an empty hidden generation (manifest `expired`): the
   rows vanish from every query that starts afterwards, in one step, while a query
   already running still reads the old files, which stay;
2. a later run, once the swap is older than the grace period
   (`QUESTLINE_COMPACT_KEEP_REPLACED_SECONDS` + the lock timeout), deletes the old
   files, unregisters the partition from the metastore and deletes its directory.

The partition stays registered (empty) between the two, so a job that registers
partition directories at start (`sync_partition_metadata`) cannot bring the old
rows back. Both steps run under the partition's lock, so they never overlap a
compaction or an erasure of the same partition, and both are safe to kill: every
run redoes whatever step the partition is at.
"""

import datetime as dt
import logging

from questline_events import ERASURE_REQUESTS
from questline_spark.compaction import Compactor, Outcome, Rewrite
from questline_spark.settings import RetentionSettings
from questline_spark.tables import TableSpec

log = logging.getLogger(__name__)

RETENTION = Rewrite("retention", expire=True)
# The erasure requests are the list of player ids that stay erased: kept as long as the tables.
KEPT_FOREVER = frozenset({ERASURE_REQUESTS})


def expired_partitions(partitions: list[str], days: int, today: dt.date) -> list[str]:
    """The partitions (`<column>=<yyyy-mm-dd>`) dated more than `days` days before `today`; none if days is 0."""
    if not days:
        return []
    cutoff = today - dt.timedelta(days=days)
    return sorted(p for p in partitions if dt.date.fromisoformat(p.split("=", 1)[1]) < cutoff)


def expire(compactor: Compactor, specs: dict[str, TableSpec], settings: RetentionSettings) -> list[Outcome]:
    today = dt.datetime.now(dt.UTC).date()
    outcomes = []
    for spec in specs.values():
        if spec.name in KEPT_FOREVER:
            continue
        days = settings.days_of(spec.name)
        for partition in expired_partitions(list(compactor.locations.of_table(spec.name)), days, today):
            outcome = compactor.rewrite_partition(spec, partition, RETENTION)
            log.info("retention (%d days) %s", days, outcome.line())
            outcomes.append(outcome)
    return outcomes
