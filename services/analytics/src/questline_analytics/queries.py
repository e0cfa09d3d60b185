"""The business questions: one SQL file each in sql/, run through Trino.

A file's leading `--` comment lines are its question, shown above its table in
the report. Table names in the files are unqualified; the connection's catalog
and schema say which tables (the real `questline` schema, or a test's scratch one).
"""

import dataclasses
import re
from importlib import resources
from typing import Any

import trino

from questline_analytics.settings import Settings


@dataclasses.dataclass(frozen=True)
class Query:
    name: str  # file name without number and extension: most_popular_items
    question: str
    sql: str


@dataclasses.dataclass(frozen=True)
class Result:
    query: Query
    columns: list[str]
    rows: list[tuple[Any, ...]]
    note: str = ""  # why there are no rows, when it is not "none yet"


# The tables compute-kpis fills (questline_spark.kpis); missing until it first runs.
KPI_TABLES_HINT = "no KPI tables yet: run compute-kpis (make spark-kpi; docs/analytics.md)"


def load_queries() -> list[Query]:
    queries = []
    for path in sorted(resources.files("questline_analytics").joinpath("sql").iterdir(), key=lambda p: p.name):
        if not path.name.endswith(".sql"):
            continue
        text = path.read_text("utf-8")
        comment = [line[2:].strip() for line in text.splitlines() if line.startswith("--")]
        name = re.sub(r"^\d+_", "", path.name.removesuffix(".sql"))
        queries.append(Query(name, " ".join(comment), text.strip()))
    return queries


def query_named(name: str) -> Query:
    for query in load_queries():
        if query.name == name:
            return query
    raise KeyError(f"no query named {name!r}; known: {', '.join(q.name for q in load_queries())}")


def connect(settings: Settings, schema: str | None = None) -> trino.dbapi.Connection:
    return settings.trino_login.connect(
        settings.trino_url,
        catalog=settings.catalog,
        schema=schema or settings.schema,
        request_timeout=120,
    )


def fetch(conn: trino.dbapi.Connection, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
    cursor = conn.cursor()
    cursor.execute(sql, params)
    rows = [tuple(row) for row in cursor.fetchall()]
    return [c[0] for c in cursor.description or []], rows


def run_query(conn: trino.dbapi.Connection, query: Query) -> Result:
    try:
        columns, rows = fetch(conn, query.sql)
    except trino.exceptions.TrinoUserError as exc:
        # The event tables exist from the start; the KPI tables only once their job has run.
        if exc.error_name != "TABLE_NOT_FOUND":
            raise
        return Result(query, [], [], KPI_TABLES_HINT)
    return Result(query, columns, rows)


def run_all(conn: trino.dbapi.Connection) -> list[Result]:
    return [run_query(conn, q) for q in load_queries()]
