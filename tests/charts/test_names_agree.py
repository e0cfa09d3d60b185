"""The charts use the names the Python code uses: environment variables the settings
modules read (and enough of them to load), the topic, the schema and table names, the
Service names and ports behind every endpoint, and the entry points the images run."""

import ast
import importlib.util
import json
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from chartlib import REPO, SCENARIOS, env_values, mounted_here, pod_specs

from questline_events import DATABASE, SPARK_KAFKA_GROUP_PREFIX, TABLES, TOPIC_EVENTS
from questline_settings import kafka as kafka_auth

pytestmark = pytest.mark.charts

API_SETTINGS = REPO / "services/game-api/src/questline_api/settings.py"
SPARK_SETTINGS = REPO / "spark-apps/src/questline_spark/settings.py"
# The Trino login (QUESTLINE_TRINO_USER, _PASSWORD_FILE, _CA_FILE), read for a settings module
# that calls trino_login().
TRINO_LOGIN = REPO / "services/settings/src/questline_settings/trino.py"
# Read by software other than our settings modules: prometheus_client (multiprocess
# metrics), and Spark / pyspark in the driver pods (POD_* feed PYSPARK_SUBMIT_ARGS).
NOT_OURS = {"PROMETHEUS_MULTIPROC_DIR", "SPARK_CONF_DIR", "PYSPARK_SUBMIT_ARGS", "POD_IP", "POD_NAME"}


def names_read_by(module: Path) -> set[str]:
    """Environment variable names a settings module mentions as string literals, and those of
    the shared readers it calls (questline_settings.kafka: the Kafka user)."""
    tree = ast.parse(module.read_text())
    shared = {kafka_auth.USERNAME, kafka_auth.PASSWORD} if "kafka_credentials(" in module.read_text() else set()
    names = shared | {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value.startswith("QUESTLINE_") or node.value == "KAFKA_BOOTSTRAP_SERVERS")
        and node.value.isupper()
    }
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return names | names_read_by(TRINO_LOGIN) if "trino_login" in calls else names


def load_settings_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def containers_by_image(resources, repository):
    for r in resources:
        for spec in pod_specs(r):
            for c in spec["containers"]:
                if c["image"].startswith(repository + ":") and c["name"] in ("api", "driver", "kpi"):
                    yield r, c


def trino_catalogs(resources) -> set[str]:
    return {
        key
        for r in resources
        if r["kind"] == "ConfigMap" and r["metadata"]["name"].endswith("trino-coordinator")
        for key in r["data"]
        if key.endswith(".properties") and "connector.name=" in r["data"][key]
    }


def env_of(container) -> dict[str, str]:
    return {e["name"]: "" for e in container.get("env", [])} | env_values(container)


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_api_environment_is_exactly_what_the_api_settings_read_and_loads(render, files, tmp_path):
    _, resources = render(files)
    read = names_read_by(API_SETTINGS)
    settings = load_settings_module(API_SETTINGS, "chart_test_api_settings")
    for r, c in containers_by_image(resources, "questline/game-api"):
        env = env_of(c)
        unknown = set(env) - read - NOT_OURS
        assert not unknown, f"{r['metadata']['name']} sets variables questline_api.settings never reads: {unknown}"
        loaded = settings.load(mounted_here(env, tmp_path))
        assert loaded.bind.endswith(f":{c['ports'][0]['containerPort']}")


@pytest.mark.parametrize("files", SCENARIOS.values(), ids=SCENARIOS.keys())
def test_spark_environment_is_exactly_what_the_spark_settings_read_and_loads(render, files, monkeypatch, tmp_path):
    _, resources = render(files)
    read = names_read_by(SPARK_SETTINGS)
    settings = load_settings_module(SPARK_SETTINGS, "chart_test_spark_settings")
    drivers = list(containers_by_image(resources, "questline/spark"))
    for r, c in drivers:
        env = env_of(c)
        unknown = set(env) - read - NOT_OURS
        assert not unknown, f"{r['metadata']['name']} sets variables questline_spark.settings never reads: {unknown}"
        for name in list(read):
            monkeypatch.delenv(name, raising=False)
        for name, value in mounted_here(env, tmp_path).items():
            monkeypatch.setenv(name, value)
        loaded = settings.load()
        assert loaded.events_topic == TOPIC_EVENTS
        assert loaded.database == DATABASE
        assert f"{loaded.trino_catalog}.properties" in trino_catalogs(resources)


def test_the_spark_users_group_prefix_is_the_one_the_jobs_use(render):
    _, resources = render(())
    (spark,) = [r for r in resources if r["kind"] == "KafkaUser" and r["metadata"]["name"] == "questline-kafka-spark"]
    groups = [a["resource"] for a in spark["spec"]["authorization"]["acls"] if a["resource"]["type"] == "group"]
    assert groups == [{"type": "group", "name": SPARK_KAFKA_GROUP_PREFIX, "patternType": "prefix"}]


def test_the_settings_scan_finds_the_variables_both_sides_rely_on():
    # Guards the scan itself: an empty set would make the tests above pass vacuously.
    assert {"KAFKA_BOOTSTRAP_SERVERS", "QUESTLINE_API_WORKERS", "QUESTLINE_API_BIND"} <= names_read_by(API_SETTINGS)
    assert {"KAFKA_BOOTSTRAP_SERVERS", "QUESTLINE_HDFS_URI", "QUESTLINE_TRINO_URL"} <= names_read_by(SPARK_SETTINGS)


def _topics(resources) -> set[str]:
    """Topic names: KafkaTopics (strimzi mode) or those the plain-mode topic Job creates."""
    topics = {r["metadata"]["name"] for r in resources if r["kind"] == "KafkaTopic"}
    for r in resources:
        if r["kind"] == "Job" and "-kafka-topics-" in r["metadata"]["name"]:
            script = r["spec"]["template"]["spec"]["containers"][0]["command"][-1]
            topics |= set(re.findall(r'--create --if-not-exists \\\s+--topic "([^"]+)"', script))
    return topics


@pytest.mark.parametrize("sets", [(), ("kafka.mode=plain",)], ids=["strimzi", "plain"])
def test_topic_schema_and_tables_agree_with_questline_events(render, sets):
    _, resources = render((), sets)
    assert TOPIC_EVENTS in _topics(resources)
    for r in resources:
        if r["kind"] == "Pod" and r["metadata"]["name"].endswith("trino-test"):
            query = next(a for a in r["spec"]["containers"][0]["command"] if a.startswith("--execute="))
            _catalog, schema, table = query.rsplit(" ", 1)[1].split(".")
            assert schema == DATABASE
            assert table in TABLES


def _service_ports(resources) -> dict[str, set[int]]:
    services = {
        r["metadata"]["name"]: {p["port"] for p in r["spec"]["ports"]} for r in resources if r["kind"] == "Service"
    }
    for r in resources:
        if r["kind"] == "Kafka":
            # Strimzi creates <cluster>-kafka-bootstrap with one port per listener.
            services[f"{r['metadata']['name']}-kafka-bootstrap"] = {
                listener["port"] for listener in r["spec"]["kafka"]["listeners"]
            }
    return services


@pytest.mark.parametrize("sets", [(), ("kafka.mode=plain",)], ids=["strimzi", "plain"])
def test_every_endpoint_points_at_a_rendered_service_and_port(render, sets):
    _, resources = render((), sets)
    services = _service_ports(resources)
    env = {}
    for r in resources:
        for spec in pod_specs(r):
            for c in spec["containers"]:
                env.update(env_of(c))
    addresses = [
        env["KAFKA_BOOTSTRAP_SERVERS"],
        *(urlsplit(env[k]).netloc for k in ("QUESTLINE_HDFS_URI", "QUESTLINE_TRINO_URL")),
    ]
    for r in resources:
        if r["kind"] == "ConfigMap" and "hive.properties" in r.get("data", {}):
            uri = next(
                line.split("=", 1)[1]
                for line in r["data"]["hive.properties"].splitlines()
                if line.startswith("hive.metastore.uri=")
            )
            addresses.append(urlsplit(uri).netloc)
    for address in addresses:
        host, port = address.rsplit(":", 1)
        assert host in services, f"{address}: no Service {host} (have {sorted(services)})"
        assert int(port) in services[host], f"{address}: Service {host} has ports {services[host]}"


def test_spark_jobs_run_console_scripts_that_spark_apps_defines(render):
    scripts = tomllib.loads((REPO / "spark-apps/pyproject.toml").read_text())["project"]["scripts"]
    _, resources = render(())
    commands = [c["args"][0] for _, c in containers_by_image(resources, "questline/spark")]
    assert len(commands) == 5  # stream, batch, compaction, tables, kpi
    for command in commands:
        assert command in scripts, f"{command} is not in spark-apps [project.scripts]: {sorted(scripts)}"


def test_api_runs_the_gunicorn_config_module_of_the_api(render):
    _, resources = render(())
    ((_, container),) = containers_by_image(resources, "questline/game-api")
    config = container["command"][container["command"].index("-c") + 1]
    module = config.removeprefix("python:")
    assert (REPO / "services/game-api/src" / (module.replace(".", "/") + ".py")).is_file()


def test_the_helm_test_event_is_a_request_the_api_accepts(render):
    from questline_api import spec

    _, resources = render(())
    (pod,) = [r for r in resources if r["kind"] == "Pod" and r["metadata"]["name"].endswith("api-test")]
    env = env_of(pod["spec"]["containers"][0])
    paths = spec.openapi()["paths"]
    matching = [
        template
        for template in paths
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), env["EVENT_PATH"]) and "post" in paths[template]
    ]
    assert matching, f"{env['EVENT_PATH']} is not a POST route of the API"
    schema_ref = paths[matching[0]]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    spec.validate_body(schema_ref.rsplit("/", 1)[1], json.loads(env["EVENT_BODY"]))


def test_the_maintenance_cronjob_runs_every_step_with_the_retention_values(render):
    sets = ("sparkApps.compaction.retention.days=30", "sparkApps.compaction.retention.byTable.purchases=365")
    _, resources = render((), sets)
    (cronjob,) = [r for r in resources if r["kind"] == "CronJob" and r["metadata"]["name"].endswith("spark-compact")]
    (container,) = pod_specs(cronjob)[0]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert container["args"][0] == "maintain-tables"
    assert (env["QUESTLINE_RETENTION_DAYS"], env["QUESTLINE_QUARANTINE_RETENTION_DAYS"]) == ("30", "180")
    assert env["QUESTLINE_RETENTION_DAYS_BY_TABLE"] == "purchases=365"
