"""The wrapper Go modules pin what versions.toml says (fast: no build, no server)."""

import dataclasses
import shutil

import pytest

from questline_devkit.versions import versions
from questline_node import build, settings


def test_wrapper_modules_pin_the_versions_of_the_version_table():
    build.check_pins(settings.load_build())


def test_every_kubernetes_staging_module_is_pinned_to_the_published_tag():
    s = settings.load_build()
    _major, minor, patch = s.kubernetes_version.split(".")
    pins = build.replaced(s.modules_dir / "kubernetes" / "go.mod")
    assert {"k8s.io/api", "k8s.io/apiserver", "k8s.io/client-go", "k8s.io/apiextensions-apiserver"} <= set(pins)
    assert set(pins.values()) == {f"v0.{minor}.{patch}"}


def test_one_wrapper_module_declares_every_kubernetes_binary():
    """One `go build` of node/go/kubernetes builds them all (their shared packages compile once)."""
    go_mod = (settings.load_build().modules_dir / "kubernetes" / "go.mod").read_text()
    for name in build.KUBERNETES:
        assert f"\tk8s.io/kubernetes/cmd/{name}\n" in go_mod
    assert {t.module for t in build.targets(settings.load_build()).values() if t.name in build.KUBERNETES} == {
        "kubernetes"
    }


def test_a_staging_module_left_behind_stops_the_build(tmp_path):
    s = settings.load_build()
    shutil.copytree(s.modules_dir, tmp_path / "go")
    go_mod = tmp_path / "go" / "kubernetes" / "go.mod"
    go_mod.write_text(
        go_mod.read_text().replace(
            "k8s.io/client-go => k8s.io/client-go v0.", "k8s.io/client-go => k8s.io/client-go v9.", 1
        )
    )
    with pytest.raises(build.BuildError, match=r"k8s\.io/client-go is v9"):
        build.check_pins(dataclasses.replace(s, modules_dir=tmp_path / "go"))


@pytest.mark.parametrize("folder", ["etcd", "coredns", "registry", "local-path-provisioner", "traefik", "crictl"])
def test_a_component_at_another_version_stops_the_build(tmp_path, folder):
    s = settings.load_build()
    shutil.copytree(s.modules_dir, tmp_path / "go")
    (module, pinned) = next((m, v) for (f, m), v in build.expected_pins(s).items() if f == folder)
    go_mod = tmp_path / "go" / folder / "go.mod"
    go_mod.write_text(go_mod.read_text().replace(f"{module} {pinned}", f"{module} v0.0.1", 1))
    with pytest.raises(build.BuildError, match=f"{module} is v0.0.1"):
        build.check_pins(dataclasses.replace(s, modules_dir=tmp_path / "go"))


def test_the_built_cluster_has_the_minor_version_the_charts_target():
    table = versions()
    assert table["kubernetes_build"]["version"].split(".")[:2] == table["kubernetes"]["version"].split(".")[:2]
    assert table["cri_tools"]["version"].split(".")[:2] == table["kubernetes"]["version"].split(".")[:2]


def test_every_node_component_has_a_pinned_version_with_a_reason():
    table = versions()
    for key in ("kubernetes_build", "etcd", "coredns", "registry", "local_path_provisioner", "traefik", "cri_tools",
                "node_runtime"):  # fmt: skip
        assert table[key].get("why"), f"versions.toml [{key}] needs a why"
