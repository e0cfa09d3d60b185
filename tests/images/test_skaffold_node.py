"""skaffold.yaml's `node` profile (the one-node cluster of `make node-up`): valid against skaffold's
schema once applied, every image built by questline-images and pushed to the node's registry, and
the same releases, values and port-forwards as the `kind` profile except what differs by nature
(no Strimzi operator, so its release is dropped and Kafka runs in plain mode)."""

import copy
import json

import imagelib
import jsonschema
import pytest
from imagelib import REPO

from questline_kind import settings as kind_settings
from questline_kind import tools

NODE_CONTEXT = "questline-node"
NODE_REGISTRY = "127.0.0.1:5000"
# The images of the stack (docs/architecture, COMMON: questline/<name>), in skaffold.yaml's order.
IMAGES = ["game-api", "spark", "hive-metastore", "trino", "hadoop", "postgres", "kafka"]


def _profile(skaffold, name) -> dict:
    return next(p for p in skaffold["profiles"] if p["name"] == name)


def _overlay(base, layer):
    """What skaffold does with a profile's sections: mappings merge key by key, anything else
    (lists, scalars) replaces the base value."""
    if isinstance(base, dict) and isinstance(layer, dict):
        merged = dict(base)
        for key, value in layer.items():
            merged[key] = _overlay(base.get(key), value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(layer)


def _pointer(path: str) -> list:
    return [int(p) if p.isdigit() else p for p in path.strip("/").split("/")]


def _patch(config, patch):
    *parents, leaf = _pointer(patch["path"])
    node = config
    for key in parents:
        node = node[key]
    if patch["op"] == "remove":
        del node[leaf]
    elif patch["op"] == "add" and isinstance(node, list):
        node.insert(len(node) if leaf == "-" else leaf, copy.deepcopy(patch["value"]))
    elif patch["op"] in ("add", "replace"):
        if patch["op"] == "replace":
            assert leaf in node if isinstance(node, dict) else leaf < len(node), patch["path"]
        node[leaf] = copy.deepcopy(patch["value"])
    else:
        raise AssertionError(f"unsupported patch op {patch['op']}")


def applied(skaffold, name) -> dict:
    """The configuration skaffold runs with `-p name`: the profile's sections overlaid, then its patches."""
    profile = _profile(skaffold, name)
    config = copy.deepcopy({k: v for k, v in skaffold.items() if k != "profiles"})
    for section in ("build", "deploy", "portForward", "manifests", "test", "verify"):
        if section in profile:
            config[section] = _overlay(config.get(section, {}), profile[section])
    for patch in profile.get("patches", []):
        _patch(config, patch)
    return config


@pytest.fixture(scope="module")
def validator(skaffold):
    schema = json.loads(tools.skaffold_schema(kind_settings.load(), skaffold["apiVersion"]).read_text())
    return jsonschema.Draft7Validator(schema)


@pytest.fixture(scope="module")
def node(skaffold):
    return applied(skaffold, "node")


@pytest.fixture(scope="module")
def kind(skaffold):
    return applied(skaffold, "kind")


@pytest.mark.parametrize("profile", ["kind", "node"])
def test_the_applied_profile_is_valid_against_skaffolds_schema(skaffold, validator, profile):
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(applied(skaffold, profile))]
    assert not errors, "\n".join(errors)


def test_the_profile_application_replaces_lists_and_applies_patches(skaffold):
    # Guards the helper above: without the node profile's patches Strimzi would still be there.
    node = applied(skaffold, "node")
    assert [r["name"] for r in skaffold["deploy"]["helm"]["releases"]] == ["strimzi", "questline"]
    assert [r["name"] for r in node["deploy"]["helm"]["releases"]] == ["questline"]
    assert all("custom" in a for a in node["build"]["artifacts"])


def test_the_node_profile_is_activated_by_and_deploys_to_the_node_context(skaffold, node):
    assert {"kubeContext": NODE_CONTEXT} in _profile(skaffold, "node")["activation"]
    assert node["deploy"]["kubeContext"] == NODE_CONTEXT


def test_every_image_is_built_by_questline_images_and_pushed(node, artifacts):
    built = node["build"]["artifacts"]
    assert [a["image"] for a in built] == [f"questline/{name}" for name in IMAGES]
    # Whatever the base list builds, the node builds too (the profile replaces the list whole).
    assert set(artifacts) <= {a["image"] for a in built}
    for artifact, name in zip(built, IMAGES, strict=True):
        assert set(artifact) == {"image", "context", "custom"}, artifact["image"]
        assert artifact["context"] == "."
        assert artifact["custom"]["buildCommand"] == f'.venv/bin/questline-images build {name} --tag "$IMAGE" --push'
        # Rebuilt when its inputs change: the inputDigest tag is computed over these paths.
        paths = artifact["custom"]["dependencies"]["paths"]
        assert "versions.toml" in paths and any(p.startswith("images/") for p in paths), artifact["image"]
    assert node["build"]["local"]["push"] is True
    assert node["build"]["tagPolicy"] == {"inputDigest": {}}
    assert NODE_REGISTRY in node["build"]["insecureRegistries"]


def test_every_dependency_path_exists_so_the_input_digest_can_be_computed(node):
    # skaffold's inputDigest tagger falls back to the tag `latest` when a dependency path is missing
    # (found with `skaffold render -p node`; the chart's schema then refuses the tag).
    for artifact, name in zip(node["build"]["artifacts"], IMAGES, strict=True):
        if not (REPO / "images" / name).is_dir() and name != "game-api":
            continue  # an image the images issue adds (docs/kubernetes.md); checked once it exists
        for path in artifact["custom"]["dependencies"]["paths"]:
            assert (REPO / path).exists(), f"{artifact['image']}: dependency {path} does not exist"
            assert (REPO / path).resolve().is_relative_to(REPO), path


def test_every_file_a_build_reads_is_a_dependency_so_changing_it_rebuilds(node):
    """The inputDigest tag covers only the declared paths: a Dockerfile input outside them (the shared
    images/common/apt-install.sh) would leave `skaffold dev` deploying the old image."""
    for artifact, name in zip(node["build"]["artifacts"], IMAGES, strict=True):
        paths = [p.rstrip("/") for p in artifact["custom"]["dependencies"]["paths"]]
        dockerfile = imagelib.parse(REPO / "images" / name / "Dockerfile")
        for source in dockerfile.context_sources():
            source = source.rstrip("/")
            assert any(source == p or source.startswith(p + "/") for p in paths), (
                f"{artifact['image']}: {source} is read by the build but not among {paths}"
            )


# What the node profile sets that kind does not, by nature: Kafka without the Strimzi operator, and
# smaller CPU requests because the node has 2 CPUs where values-kind.yaml assumes a 4-CPU laptop
# (the real run left the tables Job Pending: "Insufficient cpu"). Requests only, never limits.
NODE_ONLY_VALUES = {
    "kafka.mode": "plain",
    "trino.coordinator.resources.requests.cpu": "200m",
    "sparkApps.driver.resources.requests.cpu": "100m",
    "sparkApps.executor.requestCores": "100m",
}


def test_node_and_kind_install_the_same_releases_in_the_same_order_but_strimzi(kind, node):
    kind_releases = [r for r in kind["deploy"]["helm"]["releases"] if r["name"] != "strimzi"]
    node_releases = node["deploy"]["helm"]["releases"]
    assert [r["name"] for r in node_releases] == [r["name"] for r in kind_releases]
    for ours, theirs in zip(node_releases, kind_releases, strict=True):
        theirs = {k: v for k, v in theirs.items() if k != "dependsOn"}  # strimzi is gone
        ours_values = dict(ours["setValues"])
        for key, value in NODE_ONLY_VALUES.items():
            assert ours_values.pop(key) == value, key
        assert ours_values == theirs["setValues"]
        assert {k: v for k, v in ours.items() if k != "setValues"} == {
            k: v for k, v in theirs.items() if k != "setValues"
        }
        assert ours["valuesFiles"] == ["charts/questline/values-kind.yaml"]


def test_node_and_kind_differ_only_in_how_images_reach_the_cluster(kind, node):
    def without_build_and_kafka(config):
        config = copy.deepcopy(config)
        del config["build"]
        config["deploy"].pop("kubeContext")
        releases = config["deploy"]["helm"]["releases"]
        config["deploy"]["helm"]["releases"] = [r for r in releases if r["name"] != "strimzi"]
        for release in config["deploy"]["helm"]["releases"]:
            release.pop("dependsOn", None)
            for key in NODE_ONLY_VALUES:
                release["setValues"].pop(key, None)
        return config

    assert without_build_and_kafka(kind) == without_build_and_kafka(node)


def test_a_cold_first_deploy_is_waited_for_not_given_up(node, kind):
    for config in (node, kind):
        deploy = config["deploy"]
        # Set from the measured cold deploy (~95 s to every pod Ready): more than the kubelet's
        # 5-minute crash-loop back-off plus a start.
        assert deploy["statusCheckDeadlineSeconds"] >= 600
        assert deploy["tolerateFailuresUntilDeadline"] is True
        for command in ("install", "upgrade"):
            flags = deploy["helm"]["flags"][command]
            assert flags[flags.index("--timeout") + 1] == "15m"
        # The stack's release is never installed with --wait (the metastore waits for a post-install
        # hook, docs/charts.md) nor --atomic (a slow first install must not be rolled back).
        stack = next(r for r in deploy["helm"]["releases"] if r["name"] == "questline")
        assert not stack.get("wait")
        assert "--atomic" not in deploy["helm"]["flags"]["install"]


def test_port_forwards_are_those_of_the_kind_profile(kind, node):
    assert node["portForward"] == kind["portForward"]
