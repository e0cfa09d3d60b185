"""Trino's door on the real local stack (issue 20 item 2, docs/security.md "Trino"): users log in
over HTTPS with a password; an analyst reads the database and nothing else, only the pipeline
writes and registers partitions; unknown users, wrong passwords and plain HTTP are refused."""

import contextlib
import stat

import pytest
import requests
import trino

from questline_events import TRINO_CATALOG, TRINO_PIPELINE_USER, TRINO_READERS
from questline_settings.trino import connect
from questline_stack.components.trino_auth import TrinoAuth
from questline_stack.scratch import Scratch

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def stack(stack_up):
    return stack_up("postgres", "hdfs", "metastore", "trino")


@pytest.fixture(scope="module")
def table(stack):
    """A partitioned table with one row in a database of this module, made by the pipeline."""
    with Scratch(stack, "trinoauth", make_topic=False) as scratch, _cursor(stack, TRINO_PIPELINE_USER) as sql:
        db = f"{TRINO_CATALOG}.{scratch.database}"
        sql(f"CREATE SCHEMA {db} WITH (location = '{scratch.location}')")
        sql(
            f"CREATE TABLE {db}.events (event_id varchar, event_date varchar) WITH (format = 'PARQUET', "
            f"partitioned_by = ARRAY['event_date'], external_location = '{scratch.location}/events')"
        )
        sql(f"INSERT INTO {db}.events VALUES ('a', '2026-01-01')")
        yield scratch.database


@contextlib.contextmanager
def _cursor(stack, user: str):
    with contextlib.closing(stack.trino_connect(user, request_timeout=60)) as conn:
        cursor = conn.cursor()

        def sql(statement: str) -> list[list]:
            cursor.execute(statement)
            return cursor.fetchall()

        yield sql


def _denied(sql, statement: str) -> str:
    with pytest.raises(trino.exceptions.TrinoUserError) as error:
        sql(statement)
    assert error.value.error_name == "PERMISSION_DENIED", error.value
    return error.value.message


def test_an_analyst_reads_the_database_and_sees_no_other_schema(stack, table):
    with _cursor(stack, "analyst") as sql:
        assert sql(f'SELECT event_id FROM {TRINO_CATALOG}."{table}".events') == [["a"]]
        schemas = {row[0] for row in sql(f"SHOW SCHEMAS FROM {TRINO_CATALOG}")}
        assert table in schemas
        assert "default" not in schemas  # the metastore's own database: not even listed
        assert "Cannot show tables of schema hive.default" in _denied(sql, f"SHOW TABLES FROM {TRINO_CATALOG}.default")


@pytest.mark.parametrize("user", TRINO_READERS)
def test_no_reader_may_write_create_drop_or_call_the_partition_procedures(stack, table, user):
    db = f'{TRINO_CATALOG}."{table}"'
    with _cursor(stack, user) as sql:
        assert "Cannot insert into table" in _denied(sql, f"INSERT INTO {db}.events VALUES ('b', '2026-01-02')")
        assert "Cannot create table" in _denied(sql, f"CREATE TABLE {db}.other (x integer)")
        assert "Cannot drop table" in _denied(sql, f"DROP TABLE {db}.events")
        assert "Cannot create schema" in _denied(sql, f'CREATE SCHEMA {TRINO_CATALOG}."{table}_{user}"')
        for call in (
            f"CALL {TRINO_CATALOG}.system.sync_partition_metadata('{table}', 'events', 'FULL')",
            f"CALL {TRINO_CATALOG}.system.register_partition('{table}', 'events', ARRAY['event_date'], ARRAY['x'])",
            f"CALL {TRINO_CATALOG}.system.unregister_partition('{table}', 'events', ARRAY['event_date'], ARRAY['x'])",
        ):
            assert "Cannot execute procedure" in _denied(sql, call)
    with _cursor(stack, TRINO_PIPELINE_USER) as sql:
        assert sql(f"SELECT count(*) FROM {db}.events") == [[1]]


def test_the_pipeline_writes_and_calls_the_partition_procedures(stack, table):
    db = f'{TRINO_CATALOG}."{table}"'
    with _cursor(stack, TRINO_PIPELINE_USER) as sql:
        sql(f"CALL {TRINO_CATALOG}.system.sync_partition_metadata('{table}', 'events', 'FULL')")
        sql(f"INSERT INTO {db}.events VALUES ('b', '2026-01-02')")
        assert sql(f"SELECT count(*) FROM {db}.events") == [[2]]
        sql(f"DELETE FROM {db}.events WHERE event_date = '2026-01-02'")


@pytest.mark.parametrize(
    ("user", "password", "message"),
    [
        ("nobody", "any-password", "Invalid credentials"),
        ("analyst", "a-wrong-password", "Invalid credentials"),
        ("analyst", None, "Unauthorized"),
    ],
    ids=["unknown-user", "wrong-password", "no-password"],
)
def test_an_unknown_user_a_wrong_password_and_no_password_are_refused(stack, user, password, message):
    conn = connect(stack.trino_url, user=user, password=password, ca_file=stack.trino_ca_file, max_attempts=1)
    with pytest.raises(trino.exceptions.HttpError) as error:
        conn.cursor().execute("SELECT 1")
    assert "401" in str(error.value) and message in str(error.value)


def test_a_password_over_plain_http_is_refused_and_so_is_any_user_there(stack):
    password = stack.trino_password_file("analyst").read_text().strip()
    for auth in (("analyst", password), None):
        answer = requests.post(
            f"{stack.trino_http_url}/v1/statement",
            data="SELECT 1",
            auth=auth,
            headers={"X-Trino-User": "analyst"},
            timeout=30,
        )
        assert answer.status_code == 403, answer.text
        assert "Authentication over HTTP is not enabled" in answer.text
    # /v1/info stays open there: the readiness probe, no data.
    assert requests.get(f"{stack.trino_http_url}/v1/info", timeout=30).json()["starting"] is False


def test_the_certificate_verifies_only_against_the_generated_ca(stack):
    login = stack.trino_login("analyst")
    unverified = connect(stack.trino_url, user=login.user, password=login.password, max_attempts=1)
    with pytest.raises(trino.exceptions.TrinoConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        unverified.cursor().execute("SELECT 1")
    assert login.connect(stack.trino_url).cursor().execute("SELECT 1").fetchall() == [[1]]


def test_the_secrets_are_in_private_files_only(stack):
    auth = TrinoAuth(stack)
    secret = auth.shared_secret()
    for private in (auth.shared_secret_file, auth.password_db, auth.server_pem, stack.trino_password_file("analyst")):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600, private
    etc = stack.state_dir / "trino" / "etc"
    for config in etc.rglob("*.properties"):
        assert secret not in config.read_text(), config
    hashes = auth.password_db.read_text()
    assert stack.trino_password_file("analyst").read_text().strip() not in hashes
    assert all(line.split(":", 1)[1].startswith("$2y$10$") for line in hashes.splitlines())
