"""Fetch third-party artifacts into the cache: plain downloads (checked against the
registry's SHA-1) and Maven dependency closures resolved with `mvn`."""

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.request
from pathlib import Path

from questline_settings import path

MAVEN_CENTRAL = os.environ.get("QUESTLINE_MAVEN_URL", "https://repo1.maven.org/maven2")


class FetchError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[questline] {msg}", file=sys.stderr, flush=True)


def cache_dir() -> Path:
    """$QUESTLINE_CACHE, default ~/.cache/questline: downloads, built tools and image archives of
    every dev tool (the Makefile exports the same default); never inside the repository."""
    return path("QUESTLINE_CACHE", Path.home() / ".cache" / "questline")


def maven_url(coord: str, ext: str = "jar", classifier: str | None = None) -> str:
    group, artifact, version = coord.split(":")
    name = f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + f".{ext}"
    return f"{MAVEN_CENTRAL}/{group.replace('.', '/')}/{artifact}/{version}/{name}"


def _read_url(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as resp:
        return resp.read()


def download(url: str, dest: Path, *, verify_sha1: bool = True) -> Path:
    """Download url to dest once; later calls reuse the file. Shows progress."""
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    log(f"downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done, last = 0, time.monotonic()
            sha1 = hashlib.sha1()
            while chunk := resp.read(1 << 20):
                out.write(chunk)
                sha1.update(chunk)
                done += len(chunk)
                if time.monotonic() - last > 5:
                    pct = f"{100 * done / total:.0f}%" if total else "?"
                    log(f"  {dest.name}: {done >> 20} MiB of {total >> 20} MiB ({pct})")
                    last = time.monotonic()
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise FetchError(f"download of {url} failed: {exc}") from exc
    if verify_sha1:
        try:
            expected = _read_url(url + ".sha1").decode().split()[0].strip()
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise FetchError(f"could not fetch checksum {url}.sha1: {exc}") from exc
        if sha1.hexdigest() != expected:
            part.unlink(missing_ok=True)
            raise FetchError(f"checksum mismatch for {url}: got {sha1.hexdigest()}, registry says {expected}")
    part.rename(dest)
    log(f"  {dest.name}: {done >> 20} MiB, done")
    return dest


def unpack(archive: Path, dest: Path, members_prefixes: tuple[str, ...] | None = None) -> Path:
    """Unpack a tar.gz once into dest (optionally only members under some prefixes)."""
    marker = dest / ".unpacked"
    if marker.is_file():
        return dest
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    log(f"unpacking {archive.name}")
    # Extract each member as the iteration reaches it: one pass over the compressed
    # data (listing the members first would decompress an 800 MB archive twice).
    # Random-access mode, not stream mode, because a hard link is extracted by
    # re-reading its target from earlier in the archive.
    with tarfile.open(archive, mode="r:*") as tar:
        for member in tar:
            if members_prefixes is None or member.name.startswith(members_prefixes):
                tar.extract(member, tmp, filter="tar")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    marker.touch()
    return dest


_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>questline.localstack</groupId>
  <artifactId>{name}</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
{deps}
  </dependencies>
</project>
"""

_DEP = """    <dependency>
      <groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version>
      <exclusions>{exclusions}</exclusions>
    </dependency>"""

_EXCLUSION = "<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>"


def resolve_jars(
    name: str,
    coords: list[str],
    dest: Path,
    *,
    exclusions: tuple[str, ...] = (),
    transitive: bool = True,
) -> list[Path]:
    """Resolve Maven coordinates (group:artifact:version) and their runtime
    dependencies into dest/ with `mvn dependency:copy-dependencies`, once.

    Maven does what it is made for (version mediation, exclusions, checksums);
    its local repository (~/.m2) is a second cache outside the project.
    """
    marker = dest / ".resolved"
    if marker.is_file():
        return sorted(dest.glob("*.jar"))
    if shutil.which("mvn") is None:
        raise FetchError("mvn not found: install Maven (Debian package `maven`) to resolve " + name)
    excl = "".join(_EXCLUSION.format(g=e.split(":")[0], a=e.split(":")[1]) for e in exclusions)
    deps = "\n".join(
        _DEP.format(g=c.split(":")[0], a=c.split(":")[1], v=c.split(":")[2], exclusions=excl) for c in coords
    )
    work = dest.with_name(dest.name + ".pom")
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(_POM.format(name=name, deps=deps))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"resolving {name} jars with Maven: {', '.join(coords)}")
    cmd = [
        "mvn",
        "-B",
        "-q",
        "-f",
        str(work / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={tmp}",
        "-DincludeScope=runtime",
        f"-DexcludeTransitive={'false' if transitive else 'true'}",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise FetchError(f"mvn could not resolve {name}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)
    marker.touch()
    jars = sorted(dest.glob("*.jar"))
    log(f"  {name}: {len(jars)} jars")
    return jars
