"""The jar fetcher the Spark and metastore images run, against a real HTTP server laid out like a
Maven repository."""

import functools
import hashlib
import http.server
import sys
import threading

import pytest
from imagelib import REPO

sys.path.insert(0, str(REPO / "images" / "tools"))
import fetch_maven_jars

JAR = b"PK\x03\x04 not really a jar, but bytes with a known checksum"


@pytest.fixture
def maven_repository(tmp_path):
    root = tmp_path / "repository"
    good = root / "org/example/good/1.0/good-1.0.jar"
    bad = root / "org/example/tampered/1.0/tampered-1.0.jar"
    for jar in (good, bad):
        jar.parent.mkdir(parents=True)
        jar.write_bytes(JAR)
    (good.parent / "good-1.0.jar.sha1").write_text(hashlib.sha1(JAR).hexdigest() + "  good-1.0.jar\n")
    (bad.parent / "tampered-1.0.jar.sha1").write_text(hashlib.sha1(b"something else").hexdigest())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_jar_whose_checksum_matches_is_written(maven_repository, tmp_path, monkeypatch):
    monkeypatch.setenv("MAVEN_URL", maven_repository)
    assert fetch_maven_jars.main([str(tmp_path / "jars"), "org.example:good:1.0"]) == 0
    assert (tmp_path / "jars" / "good-1.0.jar").read_bytes() == JAR


def test_a_jar_whose_checksum_differs_is_refused_and_not_written(maven_repository, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MAVEN_URL", maven_repository)
    assert fetch_maven_jars.main([str(tmp_path / "jars"), "org.example:tampered:1.0"]) == 1
    assert "checksum mismatch" in capsys.readouterr().err
    assert not list((tmp_path / "jars").iterdir())


def test_a_missing_artifact_fails_naming_its_url(maven_repository, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MAVEN_URL", maven_repository)
    assert fetch_maven_jars.main([str(tmp_path / "jars"), "org.example:absent:2.0"]) == 1
    assert "org/example/absent/2.0/absent-2.0.jar" in capsys.readouterr().err


def test_a_malformed_coordinate_is_explained():
    with pytest.raises(fetch_maven_jars.FetchError, match="expected group:artifact:version"):
        fetch_maven_jars.artifact_path("org.example:good")
