"""HDFS, PostgreSQL and the Hive metastore in the local stack: a second `up` is
harmless, HDFS stores and returns a file, the metastore runs on its schema."""

import uuid

import httpx
import pytest

from questline_stack.components.hdfs import WAREHOUSE_DIR, Hdfs
from questline_stack.components.metastore import HiveMetastore
from questline_stack.components.postgres import METASTORE_DATABASE, Postgres
from questline_stack.settings import Settings

pytestmark = pytest.mark.stack
COMPONENTS = ("postgres", "hdfs", "metastore")


@pytest.fixture(scope="session")
def hdfs_metastore_stack(stack_up) -> Settings:
    # Started, never stopped: the stack is shared with the other stack tests.
    return stack_up(*COMPONENTS)


def _components(s: Settings) -> list:
    return [Postgres(s), Hdfs(s), HiveMetastore(s)]


def _webhdfs(s: Settings, path: str) -> str:
    return f"{Hdfs(s).web_url}/webhdfs/v1{path}"


def test_second_up_keeps_the_same_processes_and_the_formatted_namenode(hdfs_metastore_stack, stack_up):
    s = hdfs_metastore_stack
    version_file = Hdfs(s).name_dir / "current" / "VERSION"
    cluster_before = version_file.read_text().split("clusterID=")[1].split()[0]
    before = {name: pid for c in _components(s) for name, pid in c.pids().items()}
    assert all(before.values()), f"not every process runs: {before}"

    stack_up(*COMPONENTS)

    after = {name: pid for c in _components(s) for name, pid in c.pids().items()}
    assert after == before
    assert all(c.ready() for c in _components(s))
    assert version_file.read_text().split("clusterID=")[1].split()[0] == cluster_before


def test_a_file_written_through_webhdfs_reads_back_unchanged(hdfs_metastore_stack):
    s = hdfs_metastore_stack
    path = f"/tmp/questline-stack-test/{uuid.uuid4().hex}.bin"
    payload = uuid.uuid4().bytes * 1000 + b"\x00\xff end"
    params = {"user.name": "questline-test"}
    with httpx.Client(timeout=30, follow_redirects=True) as http:
        # The NameNode answers CREATE with a redirect to the DataNode that takes the bytes.
        created = http.put(_webhdfs(s, path), params={**params, "op": "CREATE", "overwrite": "false"}, content=payload)
        assert created.status_code == 201, created.text
        try:
            status = http.get(_webhdfs(s, path), params={**params, "op": "GETFILESTATUS"}).json()["FileStatus"]
            assert status["length"] == len(payload)
            assert status["replication"] == 1
            read = http.get(_webhdfs(s, path), params={**params, "op": "OPEN"})
            assert read.status_code == 200
            assert read.content == payload
        finally:
            http.delete(_webhdfs(s, path), params={**params, "op": "DELETE"})
        assert http.get(_webhdfs(s, path), params={**params, "op": "GETFILESTATUS"}).status_code == 404


def test_the_warehouse_directory_exists_in_hdfs(hdfs_metastore_stack):
    response = httpx.get(_webhdfs(hdfs_metastore_stack, WAREHOUSE_DIR), params={"op": "GETFILESTATUS"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["FileStatus"]["type"] == "DIRECTORY"


def test_schematool_finds_the_metastore_schema_in_postgresql(hdfs_metastore_stack):
    metastore = HiveMetastore(hdfs_metastore_stack)
    info = metastore.schematool("-info")
    assert info.returncode == 0, info.stdout[-2000:] + info.stderr[-2000:]
    recorded = metastore.schema_version()
    assert recorded is not None
    assert f"Metastore schema version:\t {recorded}" in info.stdout + info.stderr


def test_the_running_metastore_created_its_default_database(hdfs_metastore_stack):
    # The metastore writes the `default` database into PostgreSQL when it first serves.
    names = Postgres(hdfs_metastore_stack).psql('SELECT "NAME" FROM "DBS"', METASTORE_DATABASE).split()
    assert "default" in names
