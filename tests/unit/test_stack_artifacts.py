import io
import tarfile

from questline_devkit.artifacts import maven_url, unpack


def _tar(path, names):
    with tarfile.open(path, "w:gz") as tar:
        for name in names:
            data = name.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def test_unpack_keeps_only_the_requested_prefixes_and_runs_once(tmp_path):
    archive = tmp_path / "server.tar.gz"
    _tar(archive, ["s/lib/a.jar", "s/plugin/hive/b.jar", "s/plugin/kafka/c.jar"])
    out = unpack(archive, tmp_path / "out", members_prefixes=("s/lib/", "s/plugin/hive/"))
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.jar")) == ["s/lib/a.jar", "s/plugin/hive/b.jar"]
    archive.unlink()  # a second call must not need the archive again
    assert unpack(archive, tmp_path / "out") == out


def test_maven_url_names_classifier_and_extension():
    url = maven_url("org.apache.hive:hive-standalone-metastore-server:4.0.1", ext="tar.gz", classifier="bin")
    assert url.endswith(
        "/org/apache/hive/hive-standalone-metastore-server/4.0.1/hive-standalone-metastore-server-4.0.1-bin.tar.gz"
    )


def test_unpack_restores_hard_links(tmp_path):
    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"shared"
        info = tarfile.TarInfo("s/lib/a.jar")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("s/lib/b.jar")
        link.type = tarfile.LNKTYPE
        link.linkname = "s/lib/a.jar"
        tar.addfile(link)
    out = unpack(archive, tmp_path / "out")
    assert (out / "s/lib/b.jar").read_bytes() == b"shared"
