"""Every image the umbrella chart runs is built by a skaffold artifact or pinned in versions.toml
[images]; the services skaffold port-forwards and the smoke test's ingress host exist."""

import subprocess

import pytest
import yaml
from imagelib import REPO

from questline_devkit.versions import versions
from questline_kind import settings as kind_settings
from questline_kind import tools

CHART = REPO / "charts" / "questline"
KIND_VALUES = CHART / "values-kind.yaml"
POD_OWNERS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}

pytestmark = pytest.mark.skipif(not CHART.is_dir(), reason="charts/questline does not exist yet (issue 6)")


def pinned_images() -> set[str]:
    return {value for key, value in versions()["images"].items() if isinstance(value, str) and ":" in value}


def _image_blocks(node, path=""):
    """(path, {repository, tag}) of every `image:` mapping in a values tree."""
    if isinstance(node, dict):
        image = node.get("image")
        if isinstance(image, dict) and "repository" in image:
            yield f"{path}.image".lstrip("."), image
        for key, value in node.items():
            yield from _image_blocks(value, f"{path}.{key}")


def test_every_image_in_the_values_files_is_built_or_pinned(skaffold, artifacts):
    # Built: an artifact of the base list or of a profile that replaces it (the node profile).
    in_profiles = {a["image"] for p in skaffold.get("profiles", []) for a in p.get("build", {}).get("artifacts", [])}
    for values in sorted(CHART.rglob("values.yaml")):
        for where, image in _image_blocks(yaml.safe_load(values.read_text()) or {}):
            reference = f"{image['repository']}:{image.get('tag', '')}"
            built = image["repository"] in artifacts or image["repository"] in in_profiles
            assert built or reference in pinned_images(), (
                f"{values.relative_to(REPO)} {where}: {reference} is neither a skaffold artifact nor in versions.toml"
            )


@pytest.fixture(scope="module")
def helm() -> str:
    found = tools.find(kind_settings.load(), "helm")
    if found:
        return found
    result = subprocess.run([str(REPO / "tools" / "install.sh")], capture_output=True, text=True)
    assert result.returncode == 0, f"tools/install.sh failed:\n{result.stderr}"
    return next(line.split("=", 1)[1] for line in result.stdout.splitlines() if line.startswith("QUESTLINE_HELM="))


@pytest.fixture(scope="module")
def rendered(helm, skaffold, artifacts) -> list[dict]:
    """The umbrella chart as skaffold's kind profile installs it, with a recognisable tag per artifact."""
    release = skaffold["deploy"]["helm"]["releases"][1]
    argv = [helm, "template", release["name"], str(CHART), "--namespace", release["namespace"]]
    if KIND_VALUES.is_file():
        argv += ["--values", str(KIND_VALUES)]
    for key, template in release["setValueTemplates"].items():
        # {{.IMAGE_REPO_questline_spark}} -> questline/spark, {{.IMAGE_TAG_...}} -> skaffold-built
        if ".IMAGE_REPO_" in template:
            variable = template.split(".IMAGE_REPO_")[1].rstrip("}")
            value = next(name for name in artifacts if name.replace("/", "_").replace("-", "_") == variable)
        else:
            value = "skaffold-built"
        argv += ["--set", f"{key}={value}"]
    result = subprocess.run(argv, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def _containers(doc: dict):
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    pod = spec.get("template", {}).get("spec", {}) if doc["kind"] in POD_OWNERS | {"CronJob"} else {}
    if doc["kind"] == "Pod":
        pod = spec
    yield from pod.get("initContainers", []) + pod.get("containers", [])


@pytest.mark.charts
def test_every_rendered_container_image_is_built_or_pinned(rendered, artifacts):
    images = {(doc["kind"], doc["metadata"]["name"], c["image"]) for doc in rendered for c in _containers(doc)}
    assert images, "the chart renders no container at all"
    for kind, name, image in images:
        built = image in {f"{a}:skaffold-built" for a in artifacts}
        assert built or image in pinned_images(), f"{kind}/{name} runs {image}: neither built by skaffold nor pinned"


# Built for the kafka subchart's plain mode (no operator); the default Strimzi mode runs Strimzi's images.
NOT_RENDERED_IN_STRIMZI_MODE = {"questline/kafka"}


@pytest.mark.charts
def test_every_built_image_is_used_by_the_chart(rendered, artifacts):
    used = {c["image"] for doc in rendered for c in _containers(doc)}
    assert {f"{a}:skaffold-built" for a in set(artifacts) - NOT_RENDERED_IN_STRIMZI_MODE} <= used


@pytest.mark.charts
def test_the_port_forwarded_services_exist_with_their_ports(rendered, skaffold):
    services = {d["metadata"]["name"]: d for d in rendered if d["kind"] == "Service"}
    for forward in skaffold["portForward"]:
        service = services.get(forward["resourceName"])
        assert service, f"skaffold port-forwards service {forward['resourceName']}, which the chart does not render"
        assert forward["port"] in {p["port"] for p in service["spec"]["ports"]}


@pytest.mark.charts
def test_the_api_is_reachable_at_the_smoke_tests_ingress_host(rendered):
    host = kind_settings.load().ingress_host
    hosts = {rule.get("host") for d in rendered if d["kind"] == "Ingress" for rule in d["spec"].get("rules", [])}
    assert host in hosts, f"no Ingress for {host} (rendered hosts: {hosts})"
