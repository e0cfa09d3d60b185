"""skaffold.yaml against skaffold's published JSON schema, and against what it must agree with:
the Dockerfiles' build args, versions.toml, the chart's values keys, the kind cluster."""

import copy
import json
import re

import jsonschema
import pytest
from imagelib import REPO, parse, version_args

from questline_devkit.versions import versions
from questline_kind import settings as kind_settings
from questline_kind import tools

# The contract with the charts: which subchart's `image` each artifact fills.
SUBCHART_OF_ARTIFACT = {
    "questline/game-api": "api",
    "questline/spark": "sparkApps",
    "questline/postgres": "hiveMetastore.postgres",
    "questline/kafka": "kafka",
    "questline/hadoop": "hdfs",
    "questline/hive-metastore": "hiveMetastore",
    "questline/trino": "trino",
}


@pytest.fixture(scope="module")
def schema_validator(skaffold):
    schema = json.loads(tools.skaffold_schema(kind_settings.load(), skaffold["apiVersion"]).read_text())
    return jsonschema.Draft7Validator(schema)


def test_skaffold_yaml_uses_the_newest_schema_of_the_pinned_skaffold(skaffold):
    source = tools.go_module(kind_settings.load(), tools.SKAFFOLD_MODULE, versions()["tools"]["skaffold"])
    latest = (source / "pkg" / "skaffold" / "schema" / "latest" / "config.go").read_text()
    assert f'const Version string = "{skaffold["apiVersion"]}"' in latest


def test_skaffold_yaml_is_valid_against_the_published_schema(skaffold, schema_validator):
    errors = [f"{e.json_path}: {e.message}" for e in schema_validator.iter_errors(skaffold)]
    assert not errors, "\n".join(errors)


def test_the_schema_rejects_a_misspelt_field(skaffold, schema_validator):
    broken = copy.deepcopy(skaffold)
    broken["deploy"]["helm"]["releases"][1]["setValueTemplate"] = {}
    assert not schema_validator.is_valid(broken)


def test_every_dockerfile_is_built_by_one_artifact_with_the_repository_as_context(artifacts):
    built = {a["docker"]["dockerfile"] for a in artifacts.values()}
    assert built == {str(p.relative_to(REPO)) for p in REPO.glob("images/*/Dockerfile")}
    assert all(a.get("context", ".") == "." for a in artifacts.values())
    assert set(artifacts) == set(SUBCHART_OF_ARTIFACT)


def test_build_args_equal_versions_toml_and_exist_in_the_dockerfile(artifacts):
    for name, artifact in artifacts.items():
        dockerfile_args = parse(REPO / artifact["docker"]["dockerfile"]).args()
        for arg, value in artifact["docker"].get("buildArgs", {}).items():
            assert arg in dockerfile_args, f"{name}: build arg {arg} is not an ARG of its Dockerfile"
            expected = version_args(name.removeprefix("questline/"))[arg]
            assert str(value) == expected, f"{name}: {arg}={value!r} but versions.toml says {expected!r}"


def test_every_version_arg_of_a_dockerfile_is_passed_by_skaffold(artifacts):
    for name, artifact in artifacts.items():
        dockerfile_args = parse(REPO / artifact["docker"]["dockerfile"]).args()
        wanted = set(version_args(name.removeprefix("questline/")))
        missing = (set(dockerfile_args) & wanted) - set(artifact["docker"].get("buildArgs", {}))
        assert not missing, f"{name}: skaffold does not pass {sorted(missing)}"


def _releases(skaffold) -> list[dict]:
    return skaffold["deploy"]["helm"]["releases"]


def test_the_strimzi_operator_is_installed_first_from_its_pinned_chart(skaffold):
    operator, stack = _releases(skaffold)
    assert operator["remoteChart"] == "oci://quay.io/strimzi-helm/strimzi-kafka-operator"
    assert operator["version"] == versions()["strimzi"]["version"]
    assert operator["wait"] is True
    assert stack["dependsOn"] == [operator["name"]]


def test_the_umbrella_chart_is_released_as_questline_in_namespace_questline(skaffold):
    stack = _releases(skaffold)[1]
    assert (stack["name"], stack["namespace"], stack["chartPath"]) == ("questline", "questline", "charts/questline")
    assert _releases(skaffold)[0]["namespace"] == "questline"  # Strimzi watches its own namespace


def test_each_artifact_sets_the_image_of_its_subchart(skaffold, artifacts):
    templates = _releases(skaffold)[1]["setValueTemplates"]
    for image, subchart in SUBCHART_OF_ARTIFACT.items():
        variable = re.sub(r"[/\-.:]", "_", image)
        assert templates[f"{subchart}.image.repository"] == f"{{{{.IMAGE_REPO_{variable}}}}}"
        assert templates[f"{subchart}.image.tag"] == f"{{{{.IMAGE_TAG_{variable}}}}}"
    assert len(templates) == 2 * len(artifacts)


def _kind_profile(skaffold) -> dict:
    return next(p for p in skaffold["profiles"] if p["name"] == "kind")


def test_the_kind_profile_loads_images_instead_of_pushing_them(skaffold):
    profile = _kind_profile(skaffold)
    context = kind_settings.load().kind_context
    assert profile["build"]["local"]["push"] is False
    assert profile["deploy"]["kubeContext"] == context
    assert {"kubeContext": context} in profile["activation"]


def test_the_kind_profile_patches_point_at_existing_fields(skaffold):
    for patch in _kind_profile(skaffold)["patches"]:
        *parents, leaf = patch["path"].strip("/").split("/")
        node = skaffold
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        assert isinstance(node, dict), patch["path"]
        assert patch["op"] != "add" or leaf not in node, f"{patch['path']} already set: the patch would hide it"


def test_the_kind_profile_keeps_pull_policy_for_every_built_image(skaffold):
    values = next(p["value"] for p in _kind_profile(skaffold)["patches"] if p["path"].endswith("/setValues"))
    assert values == {f"{s}.image.pullPolicy": "IfNotPresent" for s in SUBCHART_OF_ARTIFACT.values()}


def test_port_forwards_reach_the_api_and_trino(skaffold):
    forwards = {(f["resourceType"], f["resourceName"], f["namespace"]) for f in skaffold["portForward"]}
    assert forwards == {("service", "questline-api", "questline"), ("service", "questline-trino", "questline")}
    assert len({f["localPort"] for f in skaffold["portForward"]}) == len(skaffold["portForward"])
