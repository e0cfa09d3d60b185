"""The events topic, the schema of the tables and the Trino catalog are one chart value each
(global.topic, global.database, global.catalog), and each reaches every container and
resource that uses it: the API, the Spark drivers, the helm test pods, the topic (a KafkaTopic
or the plain-mode topic Job), Trino's catalog file, and the smoke test, which reads them from
the API Deployment."""

import re

import pytest
from chartlib import env_values, mounted_here, pod_specs

from questline_events import DATABASE, TOPIC_EVENTS, TRINO_CATALOG

pytestmark = pytest.mark.charts

# A topic name Kubernetes cannot take as a resource name (upper case, `_`) on purpose.
OVERRIDDEN = {"topic": "game_Events.v2", "database": "questline_alt", "catalog": "lake"}
DEFAULTS = {"topic": TOPIC_EVENTS, "database": DATABASE, "catalog": TRINO_CATALOG}
VARIABLES = {"topic": "QUESTLINE_EVENTS_TOPIC", "database": "QUESTLINE_DATABASE", "catalog": "QUESTLINE_TRINO_CATALOG"}
CASES = {**{name: (name,) for name in OVERRIDDEN}, "all-three": tuple(OVERRIDDEN)}
MODES = {"strimzi": (), "plain": ("kafka.mode=plain",)}


def env_of(container) -> dict[str, str]:
    return env_values(container)


def containers(resources):
    for r in resources:
        for spec in pod_specs(r):
            for c in spec.get("initContainers", []) + spec["containers"]:
                yield r, c


def named(resources, kind, name):
    found = [r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: found {len(found)}"
    return found[0]


@pytest.fixture(params=[(case, mode) for case in CASES for mode in MODES], ids=lambda p: f"{p[0]}-{p[1]}")
def overridden(request, render):
    """(expected names, rendered resources) with some of the three values overridden."""
    case, mode = request.param
    want = DEFAULTS | {name: OVERRIDDEN[name] for name in CASES[case]}
    sets = tuple(f"global.{name}={OVERRIDDEN[name]}" for name in CASES[case]) + MODES[mode]
    _, resources = render((), sets)
    return want, resources, mode


def test_every_container_that_is_told_a_name_is_told_the_value(overridden):
    want, resources, _ = overridden
    told = {name: [] for name in VARIABLES}
    for r, c in containers(resources):
        env = env_of(c)
        for name, variable in VARIABLES.items():
            if variable in env:
                assert env[variable] == want[name], f"{r['kind']}/{r['metadata']['name']} {c['name']}: {variable}"
                told[name].append(f"{r['kind']}/{r['metadata']['name']}")
    # The API, the three Spark drivers (stream, batch, tables) and the streaming helm test.
    expected = {
        "Deployment/questline-api",
        "Deployment/questline-spark-stream",
        "CronJob/questline-spark-batch",
        "Pod/questline-spark-test",
    }
    for name, where in told.items():
        assert expected <= set(where), f"{VARIABLES[name]} is missing from {expected - set(where)}"
        assert any(w.startswith("Job/questline-spark-tables") for w in where), where


def _names(settings) -> dict[str, str]:
    return {"topic": settings.events_topic, "database": settings.database, "catalog": settings.trino_catalog}


def test_the_api_and_the_spark_drivers_load_the_values(overridden, monkeypatch, tmp_path):
    from test_names_agree import API_SETTINGS, SPARK_SETTINGS, load_settings_module

    want, resources, _ = overridden
    api_settings = load_settings_module(API_SETTINGS, "global_names_api_settings")
    spark_settings = load_settings_module(SPARK_SETTINGS, "global_names_spark_settings")
    (api,) = [c for r, c in containers(resources) if r["metadata"]["name"] == "questline-api" and c["name"] == "api"]
    loaded = api_settings.load(mounted_here(env_of(api), tmp_path))
    assert _names(loaded) == want
    drivers = [c for _, c in containers(resources) if c["name"] == "driver"]
    assert len(drivers) == 4  # stream, batch, compaction, tables
    for driver in drivers:
        for name, value in mounted_here(env_of(driver), tmp_path).items():
            monkeypatch.setenv(name, value)
        loaded = spark_settings.load()
        assert _names(loaded) == want
    # The KPI job reads only Trino's settings (no topic): the same database and catalog.
    (kpi,) = [c for _, c in containers(resources) if c["name"] == "kpi"]
    for name, value in mounted_here(env_of(kpi), tmp_path).items():
        monkeypatch.setenv(name, value)
    loaded = spark_settings.load_kpi()
    assert (loaded.database, loaded.trino_catalog) == (want["database"], want["catalog"])


def test_the_topic_resource_creates_the_topic_of_the_value(overridden):
    want, resources, mode = overridden
    if mode == "strimzi":
        (topic,) = [r for r in resources if r["kind"] == "KafkaTopic"]
        assert topic["spec"].get("topicName", topic["metadata"]["name"]) == want["topic"]
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", topic["metadata"]["name"])
    else:
        (job,) = [r for r in resources if r["kind"] == "Job" and "-kafka-topics-" in r["metadata"]["name"]]
        script = pod_specs(job)[0]["containers"][0]["command"][-1]
        assert set(re.findall(r'--topic "([^"]+)"', script)) == {want["topic"]}
        assert f'--entity-name "{want["topic"]}"' in script


def test_the_helm_test_pods_check_the_topic_tables_and_catalog_of_the_values(overridden):
    want, resources, _ = overridden
    for name in ("questline-kafka-test", "questline-api-kafka-test"):
        pod = named(resources, "Pod", name)
        assert env_of(pod["spec"]["containers"][0])["TOPIC"] == want["topic"], name
    trino_test = named(resources, "Pod", "questline-trino-test")
    query = next(a for a in trino_test["spec"]["containers"][0]["command"] if a.startswith("--execute="))
    catalog, database, _table = query.rsplit(" ", 1)[1].split(".")
    assert (catalog, database) == (want["catalog"], want["database"])


def test_trino_serves_the_catalog_of_the_value(overridden):
    want, resources, _ = overridden
    config = named(resources, "ConfigMap", "questline-trino-coordinator")
    catalogs = {key for key, text in config["data"].items() if "connector.name=" in text}
    assert catalogs == {f"{want['catalog']}.properties"}
    coordinator = named(resources, "Deployment", "questline-trino-coordinator")
    paths = [
        item["path"]
        for volume in coordinator["spec"]["template"]["spec"]["volumes"]
        for item in volume.get("configMap", {}).get("items", [])
    ]
    assert f"catalog/{want['catalog']}.properties" in paths


def test_the_smoke_test_reads_the_values_from_the_api_deployment(overridden):
    from questline_kind import smoke

    want, resources, _ = overridden
    api = named(resources, "Deployment", "questline-api")
    env = env_of(api["spec"]["template"]["spec"]["containers"][0])
    assert smoke.names_from_env(env) == smoke.Names(**want)
