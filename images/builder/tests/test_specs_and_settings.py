"""The builder's build args come from versions.toml, and its settings refuse what they cannot use."""

import pytest

from questline_devkit.versions import versions
from questline_images import settings, specs
from questline_settings import SettingsError


def test_every_image_gets_the_base_and_its_versions_from_the_version_table():
    v = versions()
    for name in specs.NAMES:
        assert specs.build_args(name)["BASE_IMAGE"] == v["base"]["laptop_image"]
    assert specs.build_args("trino")["JAVA_VERSION"] == v["java"]["image_trino_version"]
    assert specs.build_args("kafka")["JAVA_VERSION"] == v["java"]["image_version"]
    assert specs.build_args("hive-metastore")["HADOOP_VERSION"] == specs.build_args("hadoop")["HADOOP_VERSION"]
    assert specs.build_args("postgres")["POSTGRES_VERSION"] == v["postgresql"]["image_version"]


def test_the_local_base_replaces_the_laptop_default():
    local = versions()["base"]["local_image"]
    assert specs.spec("game-api", local).build_args["BASE_IMAGE"] == local


def test_an_unknown_image_is_refused_with_the_known_names():
    with pytest.raises(KeyError, match="game-api"):
        specs.build_args("zookeeper")


def test_local_refs_and_archives_follow_one_scheme(monkeypatch, tmp_path):
    monkeypatch.setenv("QUESTLINE_CACHE", str(tmp_path))
    monkeypatch.setenv("QUESTLINE_IMAGES_EXTRA_CA", "none")
    s = settings.load()
    assert s.archive("trino") == tmp_path / "images" / "trino.oci.tar"
    assert specs.spec("trino").ref == f"localhost/questline/trino:{versions()['trino']['version']}"


def test_a_storage_root_points_buildah_and_podman_at_the_same_store(monkeypatch, tmp_path):
    monkeypatch.setenv("QUESTLINE_IMAGES_STORAGE_ROOT", str(tmp_path / "store"))
    monkeypatch.setenv("QUESTLINE_IMAGES_EXTRA_CA", "none")
    flags = settings.load().storage_flags()
    assert flags[:2] == ["--root", str(tmp_path / "store")]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("QUESTLINE_IMAGES_STORAGE_DRIVER", "btrfs", "expected overlay or vfs"),
        ("QUESTLINE_DEBIAN_MIRROR", "deb.debian.org", "is not an http"),
        ("QUESTLINE_IMAGES_EXTRA_CA", "/nonexistent.pem", "is not a file"),
    ],
)
def test_bad_settings_name_the_variable(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"{variable}=.*{message}"):
        settings.load()


def test_the_extra_ca_bundle_is_none_when_asked(monkeypatch):
    monkeypatch.setenv("QUESTLINE_IMAGES_EXTRA_CA", "none")
    assert settings.load().extra_ca is None
