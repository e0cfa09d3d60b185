"""The base every image starts FROM on machines without Docker Hub: a Debian root filesystem made
by `debootstrap --variant=minbase` from Debian's own packages, trimmed the way Docker Hub's -slim
images are, and imported into the image store once (docs/images.md says how it differs)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from questline_devkit.versions import versions
from questline_images import buildah
from questline_images.settings import Settings

# What Docker Hub's debian images configure for containers (debuerreotype), in our own words:
# no documentation, man pages or translations from later installs, no recommends, apt lists and
# archives never kept in a layer.
_DPKG_EXCLUDES = """\
# questline base: no documentation in container layers (copyright files stay).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
"""
_APT_CONF = """\
// questline base: containers want no recommends, no kept archives, no translations.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::AutoRemove::SuggestsImportant "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
"""


def _sources(mirror: str, suite: str) -> str:
    security = mirror.rstrip("/").removesuffix("/debian") + "/debian-security"
    return (
        f"Types: deb\nURIs: {mirror}\nSuites: {suite} {suite}-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        f"Types: deb\nURIs: {security}\nSuites: {suite}-security\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
    )


def rootfs_tarball(s: Settings) -> tuple[str, Path]:
    suite = versions()["base"]["suite"]
    return suite, s.images_dir / "base" / f"debian-{suite}-minbase.tar"


def make_rootfs(s: Settings) -> None:
    """debootstrap the suite into a tarball in the cache, once."""
    suite, tarball = rootfs_tarball(s)
    if tarball.is_file():
        return
    if shutil.which("debootstrap") is None:
        raise buildah.BuildError("debootstrap not found: run `make images-deps` (installs Debian's debootstrap)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    log = s.logs_dir / "base-debootstrap.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=tarball.parent, prefix="rootfs-") as tmp:
        rootfs = f"{tmp}/rootfs"
        print(f"[images] debootstrap --variant=minbase {suite} ({s.debian_mirror}); log: {log}", flush=True)
        with open(log, "w") as out:
            rc = subprocess.run(
                ["debootstrap", "--variant=minbase", suite, rootfs, s.debian_mirror], stdout=out, stderr=out
            ).returncode
        if rc != 0:
            raise buildah.BuildError(f"debootstrap {suite} failed (exit {rc}); see {log}")
        with open(f"{rootfs}/etc/dpkg/dpkg.cfg.d/questline-slim", "w") as f:
            f.write(_DPKG_EXCLUDES)
        with open(f"{rootfs}/etc/apt/apt.conf.d/questline-container", "w") as f:
            f.write(_APT_CONF)
        with open(f"{rootfs}/etc/apt/sources.list.d/debian.sources", "w") as f:
            f.write(_sources(s.debian_mirror, suite))
        # Trim what the excludes above keep out of later layers, and every host trace.
        subprocess.run(
            [
                "sh",
                "-c",
                "rm -f etc/apt/sources.list var/cache/apt/archives/*.deb var/cache/apt/*.bin var/log/*.log"
                " && rm -rf var/lib/apt/lists/* usr/share/man/* usr/share/info/* var/cache/debconf/*-old"
                " && find usr/share/doc -mindepth 2 ! -name copyright ! -type d -delete"
                " && find usr/share/locale -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +"
                " && : > etc/hostname && : > etc/resolv.conf && rm -f etc/machine-id && : > etc/machine-id",
            ],
            cwd=rootfs,
            check=True,
        )
        subprocess.run(["tar", "--numeric-owner", "--xattrs", "-C", rootfs, "-cf", f"{tarball}.tmp", "."], check=True)
        (tarball.parent / f"{tarball.name}.tmp").rename(tarball)


def ensure_base(s: Settings) -> str:
    """The base image in the store (built and imported on first use); returns its reference."""
    ref = versions()["base"]["local_image"]
    if buildah.exists(s, ref):
        return ref
    make_rootfs(s)
    suite, tarball = rootfs_tarball(s)
    print(f"[images] importing {tarball.name} as {ref}", flush=True)
    container = buildah.run_buildah(s, "from", "scratch").strip()
    try:
        buildah.run_buildah(s, "add", container, str(tarball), "/")
        buildah.run_buildah(
            s,
            "config",
            "--env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--cmd",
            '["bash"]',
            "--label",
            f"org.opencontainers.image.title=debian {suite} (debootstrap --variant=minbase)",
            "--label",
            f"org.opencontainers.image.version={suite}",
            container,
        )
        buildah.run_buildah(s, "commit", "--rm", container, ref)
    except Exception:
        subprocess.run(["buildah", *s.storage_flags(), "rm", container], capture_output=True)
        raise
    return ref
