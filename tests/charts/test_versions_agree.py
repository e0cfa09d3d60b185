"""Image tags and versions in the charts come from versions.toml."""

import tomllib

import pytest
import yaml
from chartlib import CHART, REPO, pod_specs

from questline_devkit.versions import versions

pytestmark = pytest.mark.charts


def images(resources) -> set[str]:
    return {
        c["image"]
        for r in resources
        for spec in pod_specs(r)
        for c in [*spec["containers"], *spec.get("initContainers", [])]
    }


def test_every_image_is_ours_with_the_tag_of_its_component(render):
    from questline_images import specs

    _, resources = render(())
    rendered = images(resources)
    ours = {f"questline/{name}:{specs.tag(name)}" for name in specs.NAMES}
    # Strimzi's brokers run the operator's images, but the Kafka helm test pod runs questline/kafka
    # (its CLI) in both modes, so every image of ours is rendered by default.
    assert rendered == ours, sorted(rendered)


def test_our_images_carry_the_versions_they_were_built_from(render):
    _, resources = render(())
    rendered = images(resources)
    pins = versions()
    api_version = tomllib.loads((REPO / "services/game-api/pyproject.toml").read_text())["project"]["version"]
    assert f"questline/spark:{pins['spark']['version']}" in rendered
    assert f"questline/hive-metastore:{pins['hive_metastore']['version']}" in rendered
    assert f"questline/game-api:{api_version}" in rendered


def test_kafka_and_connector_versions_are_the_pinned_ones(render):
    _, resources = render(())
    pins = versions()
    (kafka,) = [r for r in resources if r["kind"] == "Kafka"]
    assert kafka["spec"]["kafka"]["version"] == pins["kafka"]["version"]
    connector = pins["spark"]["kafka_connector"].split(":")
    jar = f"{connector[1]}-{connector[2]}.jar"
    spark_values = yaml.safe_load((CHART / "charts/spark-apps/values.yaml").read_text())
    assert any(path.endswith("/" + jar) for path in spark_values["kafkaConnectorJars"])


def test_chart_app_versions_match_the_components(render):
    pins = versions()
    expected = {
        "kafka": pins["kafka"]["version"],
        "hdfs": pins["hadoop"]["version"],
        "hive-metastore": pins["hive_metastore"]["version"],
        "trino": pins["trino"]["version"],
        "spark-apps": pins["spark"]["version"],
    }
    for chart, version in expected.items():
        chart_yaml = yaml.safe_load((CHART / "charts" / chart / "Chart.yaml").read_text())
        assert chart_yaml["appVersion"] == version, chart
