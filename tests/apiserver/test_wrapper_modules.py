"""The wrapper Go modules pin what versions.toml says (fast: no build, no server)."""

import dataclasses
import shutil

import pytest

from questline_apiserver import build, settings


def test_wrapper_modules_pin_the_versions_of_the_version_table():
    build.check_pins(settings.load())


def test_every_kubernetes_staging_module_is_pinned_to_the_published_tag():
    s = settings.load()
    _major, minor, patch = s.kubernetes_version.split(".")
    pins = build.replaced(s.modules_dir / "kube-apiserver" / "go.mod")
    assert {"k8s.io/api", "k8s.io/apiserver", "k8s.io/client-go", "k8s.io/apiextensions-apiserver"} <= set(pins)
    assert set(pins.values()) == {f"v0.{minor}.{patch}"}


def test_a_staging_module_left_behind_stops_the_build(tmp_path):
    s = settings.load()
    for name in ("kube-apiserver", "etcd"):
        shutil.copytree(s.modules_dir / name, tmp_path / name)
    go_mod = tmp_path / "kube-apiserver" / "go.mod"
    go_mod.write_text(
        go_mod.read_text().replace(
            "k8s.io/client-go => k8s.io/client-go v0.", "k8s.io/client-go => k8s.io/client-go v9.", 1
        )
    )
    with pytest.raises(build.BuildError, match=r"k8s\.io/client-go is v9"):
        build.check_pins(dataclasses.replace(s, modules_dir=tmp_path))


def test_the_built_api_server_has_the_minor_version_the_charts_target():
    from questline_devkit.versions import versions

    table = versions()
    assert table["kube_apiserver"]["version"].split(".")[:2] == table["kubernetes"]["version"].split(".")[:2]
