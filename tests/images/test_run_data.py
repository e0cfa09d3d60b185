"""The postgres, hive-metastore, hadoop and trino images started in real containers (read-only
root, their non-root users) and wired together on loopback ports, asserted from outside:
PostgreSQL holds the metastore schema, HDFS the table data, Trino reads both."""

import json
import secrets
import urllib.parse

import pytest
from containers import http_get, port, volume
from thrift_probe import get_all_databases

from questline_settings.trino import connect as trino_connect

pytestmark = pytest.mark.images

PG_PORT, METASTORE_PORT, TRINO_PORT = port(432), port(83), port(80)
NN_RPC, NN_HTTP, DN_DATA, DN_HTTP, DN_IPC = port(20), port(70), port(66), port(64), port(67)
DB_USER, DB_NAME = "hive", "metastore"


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    return tmp_path_factory.mktemp("images-data")


@pytest.fixture(scope="module")
def postgres(podman, dirs):
    ref = podman.image("postgres")
    password = secrets.token_hex(12)
    env = {
        "POSTGRES_USER": DB_USER,
        "POSTGRES_PASSWORD": password,
        "POSTGRES_DB": DB_NAME,
        "PGPORT": str(PG_PORT),
        "POSTGRES_LISTEN_ADDRESSES": "127.0.0.1",
        "PGDATA": "/var/lib/postgresql/data/pgdata",
    }
    volumes = {
        str(volume(dirs, "pg-data", 999)): "/var/lib/postgresql/data",
        str(volume(dirs, "pg-run", 999)): "/var/run/postgresql",
    }
    name = podman.start("qi-postgres", ref, env=env, volumes=volumes)
    ready = ["pg_isready", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", DB_USER, "-d", DB_NAME]
    podman.wait(name, lambda: podman.exec(name, *ready).returncode == 0, "accepting connections")
    return {"name": name, "password": password}


def psql(podman, postgres, sql: str) -> str:
    argv = ["env", f"PGPASSWORD={postgres['password']}", "psql", "-h", "127.0.0.1", "-p", str(PG_PORT)]
    result = podman.exec(postgres["name"], *argv, "-U", DB_USER, "-d", DB_NAME, "-tAc", sql)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def metastore_env(postgres) -> dict[str, str]:
    return {
        "METASTORE_DB_URL": f"jdbc:postgresql://127.0.0.1:{PG_PORT}/{DB_NAME}",
        "METASTORE_DB_USER": DB_USER,
        "METASTORE_DB_PASSWORD": postgres["password"],
        "METASTORE_PORT": str(METASTORE_PORT),
        "METASTORE_BIND_HOST": "127.0.0.1",
        "HDFS_DEFAULT_FS": f"hdfs://127.0.0.1:{NN_RPC}",
        "METASTORE_HEAP": "384m",
    }


def test_postgres_initialises_its_data_dir_as_its_non_root_user(podman, postgres, dirs):
    assert psql(podman, postgres, "SELECT current_user") == DB_USER
    assert (dirs / "pg-data" / "pgdata" / "PG_VERSION").is_file()
    assert podman.exec(postgres["name"], "id", "-u").stdout.strip() == "999"


@pytest.fixture(scope="module")
def metastore(podman, postgres):
    ref = podman.image("hive-metastore")
    runs = [podman.run(ref, "init-schema", env=metastore_env(postgres)) for _ in range(2)]
    name = podman.start("qi-metastore", ref, env=metastore_env(postgres))
    podman.wait(name, lambda: "default" in get_all_databases("127.0.0.1", METASTORE_PORT, 5), "serving Thrift")
    return {"name": name, "schema_runs": runs}


def test_metastore_initialises_its_schema_idempotently_and_serves_thrift(podman, postgres, metastore):
    first, second = metastore["schema_runs"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert second.returncode == 0, f"second init-schema failed:\n{second.stdout[-3000:]}{second.stderr[-3000:]}"
    version = psql(podman, postgres, 'SELECT "SCHEMA_VERSION" FROM "VERSION"')
    assert version.startswith("4.0"), version
    assert psql(podman, postgres, 'SELECT count(*) FROM "VERSION"') == "1"
    assert get_all_databases("127.0.0.1", METASTORE_PORT) == ["default"]


def _jmx(bean: str) -> dict:
    query = urllib.parse.urlencode({"qry": f"Hadoop:service=NameNode,name={bean}"})
    status, body = http_get(f"http://127.0.0.1:{NN_HTTP}/jmx?{query}")
    assert status == 200
    return json.loads(body)["beans"][0]


def _hdfs_ready() -> bool:
    state = _jmx("FSNamesystemState")
    return state["FSState"] == "Operational" and state["NumLiveDataNodes"] >= 1


def hdfs_env() -> dict[str, str]:
    return {
        "HDFS_DEFAULT_FS": f"hdfs://127.0.0.1:{NN_RPC}",
        "HDFS_BIND_HOST": "127.0.0.1",
        "HDFS_NAMENODE_HTTP_ADDRESS": f"127.0.0.1:{NN_HTTP}",
        "HDFS_DATANODE_ADDRESS": f"127.0.0.1:{DN_DATA}",
        "HDFS_DATANODE_HTTP_ADDRESS": f"127.0.0.1:{DN_HTTP}",
        "HDFS_DATANODE_IPC_ADDRESS": f"127.0.0.1:{DN_IPC}",
        # As the local stack: one OS user per service here would need HDFS users set up (the chart keeps them on).
        "HDFS_PERMISSIONS_ENABLED": "false",
        "HDFS_CLUSTER_ID": "questline-images-test",
        "HDFS_NAMENODE_OPTS": "-Xmx256m",
        "HDFS_DATANODE_OPTS": "-Xmx256m",
    }


@pytest.fixture(scope="module")
def hdfs(podman, dirs):
    ref = podman.image("hadoop")
    nn_volumes = {str(volume(dirs, "nn", 1000)): "/var/lib/hadoop"}
    namenode = podman.start("qi-namenode", ref, env=hdfs_env(), volumes=nn_volumes)
    datanode = podman.start(
        "qi-datanode", ref, "datanode", env=hdfs_env(), volumes={str(volume(dirs, "dn", 1000)): "/var/lib/hadoop"}
    )
    podman.wait(namenode, _hdfs_ready, "out of safe mode with a live DataNode")
    return {"ref": ref, "namenode": namenode, "datanode": datanode, "nn_volumes": nn_volumes, "dirs": dirs}


def _dfs(podman, hdfs, script: str, volumes=None):
    return podman.run(hdfs["ref"], "bash", "-c", script, env=hdfs_env(), volumes=volumes)


def test_hadoop_formats_once_a_datanode_joins_and_a_file_round_trips(podman, hdfs):
    dirs = hdfs["dirs"]
    version_file = dirs / "nn" / "name" / "current" / "VERSION"
    version = version_file.read_text()
    assert "clusterID=questline-images-test" in version
    assert "formatting the NameNode" in podman.logs(hdfs["namenode"])
    assert _jmx("FSNamesystemState")["NumLiveDataNodes"] == 1

    payload = dirs / "payload"
    payload.mkdir()
    (payload / "quest.txt").write_text("a sword, a shield and 1000 gold\n" * 100)
    put = _dfs(podman, hdfs, "hdfs dfs -mkdir -p /qi && hdfs dfs -put -f /in/quest.txt /qi/quest.txt",
               volumes={str(payload): "/in:ro"})  # fmt: skip
    assert put.returncode == 0, put.stderr[-3000:]
    cat = _dfs(podman, hdfs, "hdfs dfs -cat /qi/quest.txt")
    assert cat.returncode == 0, cat.stderr[-3000:]
    assert cat.stdout == (payload / "quest.txt").read_text()

    # A second start of the NameNode finds its name directory formatted and keeps it.
    podman.stop(hdfs["namenode"])
    namenode = podman.start("qi-namenode", hdfs["ref"], env=hdfs_env(), volumes=hdfs["nn_volumes"])
    podman.wait(namenode, _hdfs_ready, "out of safe mode again after the restart")
    logs = podman.logs(namenode)
    assert "is formatted: not formatting" in logs and "formatting the NameNode" not in logs
    assert version_file.read_text() == version
    again = _dfs(podman, hdfs, "hdfs dfs -cat /qi/quest.txt")
    assert again.stdout == (payload / "quest.txt").read_text()


TRINO_CONFIG = {
    "node.properties": "node.environment=questline_test\nnode.data-dir=/data/trino\n",
    "config.properties": (
        "coordinator=true\nnode-scheduler.include-coordinator=true\n"
        f"http-server.http.port={TRINO_PORT}\ndiscovery.uri=http://127.0.0.1:{TRINO_PORT}\n"
        "query.max-memory=256MB\nquery.max-memory-per-node=256MB\nmemory.heap-headroom-per-node=256MB\n"
    ),
    "log.properties": "io.trino=INFO\n",
    "catalog/hive.properties": (
        f"connector.name=hive\nhive.metastore.uri=thrift://127.0.0.1:{METASTORE_PORT}\nfs.hadoop.enabled=true\n"
        "hive.metastore-cache-ttl=0s\nhive.non-managed-table-writes-enabled=true\n"
    ),
}


def _trino_etc(podman, dirs):
    etc = dirs / "trino-etc"
    (etc / "catalog").mkdir(parents=True, exist_ok=True)
    for path, text in TRINO_CONFIG.items():
        (etc / path).write_text(text)
    # The image's own JVM options with a heap for this machine.
    jvm = podman.run(podman.image("trino"), "cat", "/etc/trino/jvm.config").stdout
    (etc / "jvm.config").write_text(jvm.replace("-XX:MaxRAMPercentage=70", "-Xmx1G"))
    return etc


def _trino(sql: str):
    with trino_connect(f"http://127.0.0.1:{TRINO_PORT}", user="questline", request_timeout=60) as conn:
        cursor = conn.cursor()
        cursor.execute(sql)
        return cursor.fetchall()


def test_trino_answers_and_reads_a_hive_table_served_by_the_metastore_image(podman, metastore, hdfs, dirs):
    ref = podman.image("trino")
    volumes = {str(_trino_etc(podman, dirs)): "/etc/trino:ro", str(volume(dirs, "trino-data", 1000)): "/data/trino"}
    name = podman.start("qi-trino", ref, volumes=volumes)
    podman.wait(name, lambda: _trino("SELECT 1") == [[1]], "answering SELECT 1", timeout=300)
    podman.wait(hdfs["namenode"], _hdfs_ready, "ready for Trino")
    _trino("CREATE SCHEMA IF NOT EXISTS hive.qi")
    _trino("CREATE TABLE IF NOT EXISTS hive.qi.items (id bigint, item varchar) WITH (format = 'PARQUET')")
    _trino("INSERT INTO hive.qi.items VALUES (1, 'sword'), (2, 'shield')")
    assert _trino("SELECT id, item FROM hive.qi.items ORDER BY id") == [[1, "sword"], [2, "shield"]]
    # The table is the metastore's (Thrift) and its files are HDFS's.
    assert "qi" in get_all_databases("127.0.0.1", METASTORE_PORT)
    listing = _dfs(podman, hdfs, "hdfs dfs -ls -R /user/hive/warehouse/qi.db/items")
    assert listing.returncode == 0 and listing.stdout.strip(), listing.stderr[-2000:]
