"""Download Maven artifacts (jars) into a directory, each checked against the registry's SHA-1.

Runs inside image builds with nothing but the Python standard library:

    python fetch_maven_jars.py DEST group:artifact:version [group:artifact:version ...]

The repository defaults to Maven Central; MAVEN_URL points it at a mirror.
"""

import argparse
import hashlib
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_REPOSITORY = "https://repo1.maven.org/maven2"


class FetchError(RuntimeError):
    pass


def artifact_path(coordinate: str) -> str:
    """The repository-relative path of a jar, from its group:artifact:version coordinate."""
    parts = coordinate.split(":")
    if len(parts) != 3 or not all(parts):
        raise FetchError(f"{coordinate!r} is not a Maven coordinate (expected group:artifact:version)")
    group, artifact, version = parts
    return f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}.jar"


def _get(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as exc:
        raise FetchError(f"download of {url} failed: {exc}") from exc


def fetch(repository: str, coordinate: str, dest_dir: Path) -> Path:
    """Download one jar into dest_dir; a checksum mismatch leaves nothing behind."""
    url = f"{repository.rstrip('/')}/{artifact_path(coordinate)}"
    content = _get(url)
    expected = _get(url + ".sha1").decode().split()[0].strip().lower()
    actual = hashlib.sha1(content).hexdigest()
    if actual != expected:
        raise FetchError(f"checksum mismatch for {url}: got {actual}, the repository says {expected}")
    dest = dest_dir / url.rsplit("/", 1)[1]
    dest.write_bytes(content)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dest", type=Path, help="directory to put the jars in (created if missing)")
    parser.add_argument("coordinates", nargs="+", help="group:artifact:version")
    args = parser.parse_args(argv)
    repository = os.environ.get("MAVEN_URL") or DEFAULT_REPOSITORY
    args.dest.mkdir(parents=True, exist_ok=True)
    try:
        for coordinate in args.coordinates:
            print(f"fetched {fetch(repository, coordinate, args.dest)}", flush=True)
    except FetchError as exc:
        print(f"fetch_maven_jars: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
