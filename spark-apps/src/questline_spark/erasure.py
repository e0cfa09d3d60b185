"""Erasure of one player: every row of an erased player id rewritten away, old files deleted, audited.

A request is an `erase_player` event (DELETE /v1/players/{id}) that the streaming
job lands in `erasure_requests`, exactly once like every event. Each maintenance
run then, for every player id ever requested:

1. finds the partitions holding its rows, through Trino (visible rows: `player_id`
   of the event tables, `player_id` inside the text of quarantined records);
2. on the first sight of a request, records the rows it is about to remove per
   table (`<warehouse>/_erasures/<request>.json`, written once);
3. rewrites each of those partitions without the rows of any erased player, through
   the one swap mechanism (compaction.py: a new hidden generation, a
   compare-and-set of the location, the replaced files kept for the grace period
   and deleted by a later run), its manifest naming the requests it served;
4. completes a request once no visible row of its player is left and no partition
   still keeps replaced files of a rewrite that served it: one row per table in
   `erasure_audit` (request time, start, completion, rows removed), written as one
   file named after the request, so a rerun never writes it twice.

Every step is redone by the next run after a crash: the lookup is repeated, the
state file exists or is written, a partition is rewritten again until it holds no
such row, and the audit file exists or is written. Ids stay erased: events a
player sends after its request land as usual and are removed by the next run
(docs/spark.md, "Erasure").
"""

import dataclasses
import datetime as dt
import json
import logging
import re

from pyspark.sql import Column, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

from questline_events import ERASURE_AUDIT, ERASURE_REQUESTS
from questline_spark.catalog import Catalog
from questline_spark.compaction import Compactor, Outcome, Rewrite
from questline_spark.tables import QUARANTINE, TableSpec

log = logging.getLogger(__name__)

AUDIT = TableSpec(
    ERASURE_AUDIT,
    StructType(
        [
            StructField("erasure_id", StringType()),
            StructField("player_id", StringType()),
            StructField("requested_at", TimestampType()),
            StructField("started_at", TimestampType()),
            StructField("completed_at", TimestampType()),
            StructField("table_name", StringType()),
            StructField("rows_removed", LongType()),
        ]
    ),
    "completed_date",
    ("erasure_id", "table_name"),
    "One row per completed erasure request and table: when it was asked, started, done, rows removed",
)
# The schema's pattern for player_id: safe to quote into SQL as it is.
_PLAYER_ID = re.compile(r"[A-Za-z0-9_.:@-]{1,64}")


@dataclasses.dataclass(frozen=True, order=True)
class Request:
    erasure_id: str
    player_id: str
    requested_at: dt.datetime


def player_column(spec: TableSpec) -> Column:
    """The player a row belongs to: its player_id, or for quarantine the player_id its JSON text names."""
    if spec.name == QUARANTINE:
        return F.get_json_object(F.col("raw_text"), "$.player_id")
    return F.col("player_id")


def _player_sql(spec: TableSpec) -> str:
    return "try(json_extract_scalar(raw_text, '$.player_id'))" if spec.name == QUARANTINE else "player_id"


def erasable(specs: dict[str, TableSpec]) -> dict[str, TableSpec]:
    """Every table that can hold a player's rows; the requests themselves are the list of erased ids."""
    return {name: spec for name, spec in specs.items() if name != ERASURE_REQUESTS}


class Erasure:
    def __init__(self, spark: SparkSession, compactor: Compactor, catalog: Catalog, specs: dict[str, TableSpec]):
        self.spark = spark
        self.compactor = compactor
        self.catalog = catalog
        self.specs = erasable(specs)
        self.warehouse = compactor.warehouse
        self.fs, self._Path = compactor.fs, compactor._Path
        self.state_dir = f"{self.warehouse.warehouse_dir}/_erasures"
        self.audit_dir = self.warehouse.table_dir(ERASURE_AUDIT)
        self._open: list[Request] = []
        self._remaining: dict[str, int] = {}
        self._states: dict[str, dict] = {}
        self.warehouse.ensure_dir(self.audit_dir)
        catalog.ensure_table(AUDIT, self.audit_dir)
        catalog.add_new_partitions(AUDIT)  # an audit file whose registration a crash cut short

    # ---------------------------------------------------------------- lookups
    def requests(self) -> list[Request]:
        rows = self.catalog.execute(
            f'SELECT event_id, player_id, min("timestamp") FROM {self.catalog.qualified(ERASURE_REQUESTS)} '
            "WHERE player_id IS NOT NULL GROUP BY 1, 2"
        )
        # Trino returns a Hive timestamp without a zone; it is UTC.
        return sorted(
            Request(erasure_id, player, at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at)
            for erasure_id, player, at in rows
            if _PLAYER_ID.fullmatch(player)
        )

    def rows_of(self, players: list[str]) -> dict[str, dict[str, dict[str, int]]]:
        """table -> partition -> player -> visible rows, for the given players."""
        quoted = ", ".join(f"'{p}'" for p in players)
        found: dict[str, dict[str, dict[str, int]]] = {}
        for name, spec in self.specs.items():
            player = _player_sql(spec)
            rows = self.catalog.execute(
                f'SELECT "{spec.partition_column}", {player}, count(*) FROM {self.catalog.qualified(name)} '
                f"WHERE {player} IN ({quoted}) GROUP BY 1, 2"
            )
            for value, player_id, count in rows:
                partition = f"{spec.partition_column}={value}"
                found.setdefault(name, {}).setdefault(partition, {})[player_id] = count
        return found

    def _audited(self, request: Request) -> bool:
        return bool(self.fs.globStatus(self._Path(f"{self.audit_dir}/*/{request.erasure_id}.parquet")))

    def _state(self, request: Request, found: dict[str, dict[str, dict[str, int]]]) -> dict:
        """The request's start: written once, before anything is rewritten for it."""
        path = self._Path(f"{self.state_dir}/{request.erasure_id}.json")
        if self.fs.exists(path):
            stream = self.fs.open(path)
            try:
                text = self.spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
            finally:
                stream.close()
            try:
                return json.loads(text)
            except json.JSONDecodeError:  # the run writing it died: nothing was rewritten for it yet
                self.fs.delete(path, False)
        rows = {
            name: sum(players.get(request.player_id, 0) for players in found.get(name, {}).values())
            for name in self.specs
        }
        state = {"started_at": dt.datetime.now(dt.UTC).isoformat(), "rows": rows}
        self.fs.mkdirs(self._Path(self.state_dir))
        staged = self._Path(f"{self.state_dir}/.{request.erasure_id}.json.tmp")
        out = self.fs.create(staged, True)
        out.write(bytearray(json.dumps(state).encode()))
        out.close()
        self.fs.rename(staged, path)
        return state

    # ------------------------------------------------------------------- a run
    def run(self) -> list[Outcome]:
        """Steps 1-3: rewrite every partition holding a row of an erased player."""
        requests = self.requests()
        self._open = [r for r in requests if not self._audited(r)]
        players = sorted({r.player_id for r in requests})
        self._remaining = {p: 0 for p in players}
        if not players:
            return []
        found = self.rows_of(players)
        self._states = {r.erasure_id: self._state(r, found) for r in self._open}
        served = tuple(r.erasure_id for r in self._open)
        outcomes = []
        for name, partitions in found.items():
            spec = self.specs[name]
            removes = player_column(spec).isin(players)
            for partition, by_player in sorted(partitions.items()):
                rewrite = Rewrite("erasure", removes=removes, erasures=served)
                outcome = self.compactor.rewrite_partition(spec, partition, rewrite)
                log.info("erasure %s", outcome.line())
                outcomes.append(outcome)
                if outcome.action != "erased":
                    for player, count in by_player.items():
                        self._remaining[player] += count
        return outcomes

    def finish(self) -> int:
        """Step 4, after the run's compaction (which deletes replaced files past the grace period):
        audit every open request with no visible row left and no old file kept. Returns how many."""
        pending = self.compactor.pending_erasures(self.specs) if self._open else set()
        completed = 0
        for request in self._open:
            left = self._remaining[request.player_id]
            if left or request.erasure_id in pending:
                kept = "kept for the grace period" if request.erasure_id in pending else "deleted"
                log.info(
                    "erasure %s of %s: %d visible rows left, old files %s",
                    request.erasure_id,
                    request.player_id,
                    left,
                    kept,
                )
                continue
            self._complete(request, self._states[request.erasure_id])
            completed += 1
        return completed

    def _complete(self, request: Request, state: dict) -> None:
        completed = dt.datetime.now(dt.UTC)
        started = dt.datetime.fromisoformat(state["started_at"])
        rows = [
            (request.erasure_id, request.player_id, request.requested_at, started, completed, name, count)
            for name, count in sorted(state["rows"].items())
        ]
        partition = f"{AUDIT.partition_column}={completed:%Y-%m-%d}"
        staging = f"{self.warehouse.staging_dir}/erasure-audit-{request.erasure_id}"
        self.spark.createDataFrame(rows, AUDIT.columns).coalesce(1).write.mode("overwrite").parquet(staging)
        (written,) = self.fs.globStatus(self._Path(f"{staging}/*.parquet"))
        self.fs.mkdirs(self._Path(f"{self.audit_dir}/{partition}"))
        self.fs.rename(written.getPath(), self._Path(f"{self.audit_dir}/{partition}/{request.erasure_id}.parquet"))
        self.fs.delete(self._Path(staging), True)
        self.catalog.add_new_partitions(AUDIT)
        log.info(
            "erasure %s of %s complete: requested %s, rows removed %s",
            request.erasure_id,
            request.player_id,
            request.requested_at,
            json.dumps(state["rows"]),
        )
