"""Partition locations in the Hive metastore: read them, and move one with a compare-and-set.

Compaction needs one operation that no client of our metastore offers: switch a
partition from one directory to another *atomically and only if nobody else did*.
Trino's `unregister_partition` + `register_partition` leaves a moment with no
partition at all; Spark's Hive 2.3 client cannot call the 4.0 metastore (see
catalog.py). The partition's location is one row of the metastore's database
(`SDS.LOCATION`, reached through `PARTITIONS`, `TBLS`, `DBS`), so one
`UPDATE ... WHERE "LOCATION" = <expected>` is the swap and the compare-and-set in
one transaction: a reader (Trino asks the metastore per query, no cache) sees the
old directory or the new one, and of two compactions of the same partition only
one can win. It is the same column Hive's own `metatool -updateLocation` rewrites.
The metastore keeps no cache of partitions (`datanucleus.cache.level2` is off by
default), so the change is visible to the next call.
"""

import psycopg

_PARTITIONS = """
SELECT p."PART_NAME", s."LOCATION"
FROM "PARTITIONS" p
JOIN "SDS" s ON s."SD_ID" = p."SD_ID"
JOIN "TBLS" t ON t."TBL_ID" = p."TBL_ID"
JOIN "DBS" d ON d."DB_ID" = t."DB_ID"
WHERE d."CTLG_NAME" = 'hive' AND d."NAME" = %s AND t."TBL_NAME" = %s
"""

_SWAP = """
UPDATE "SDS" s SET "LOCATION" = %s
FROM "PARTITIONS" p, "TBLS" t, "DBS" d
WHERE s."SD_ID" = p."SD_ID" AND t."TBL_ID" = p."TBL_ID" AND d."DB_ID" = t."DB_ID"
  AND d."CTLG_NAME" = 'hive' AND d."NAME" = %s AND t."TBL_NAME" = %s AND p."PART_NAME" = %s
  AND s."LOCATION" = %s
"""


class PartitionLocations:
    def __init__(self, url: str, database: str, password: str = ""):
        # The metastore stores database and table names in lower case.
        self.database = database.lower()
        extra = {"password": password} if password else {}
        self._connection = psycopg.connect(url, autocommit=True, connect_timeout=30, **extra)

    def close(self) -> None:
        self._connection.close()

    def of_table(self, table: str) -> dict[str, str]:
        """Partition name (`event_date=2026-11-27`) -> its location, for every partition of the table."""
        with self._connection.cursor() as cursor:
            cursor.execute(_PARTITIONS, (self.database, table.lower()))
            return dict(cursor.fetchall())

    def swap(self, table: str, partition: str, expected: str, new: str) -> bool:
        """Point `partition` at `new` if it still points at `expected`; False if it did not."""
        with self._connection.transaction(), self._connection.cursor() as cursor:
            cursor.execute(_SWAP, (new, self.database, table.lower(), partition, expected))
            if cursor.rowcount > 1:  # raising inside the transaction rolls it back
                raise RuntimeError(f"{table}/{partition}: {cursor.rowcount} storage descriptors matched, expected 1")
            return cursor.rowcount == 1
