"""Every setting of questline-images, read from environment variables in one place."""

import dataclasses
from pathlib import Path

from questline_devkit.artifacts import cache_dir
from questline_devkit.versions import versions
from questline_settings import SettingsError, http_url, path, raw, text


@dataclasses.dataclass(frozen=True)
class Settings:
    cache_dir: Path
    # OCI archives (<name>.oci.tar), build logs, the base rootfs tarball.
    images_dir: Path
    # containers/storage of buildah and podman; None = their own default (/var/lib/containers/storage).
    storage_root: Path | None
    storage_driver: str
    # OCI runtime for RUN steps and test containers: runc (crun refuses this machine's hugetlb layout).
    runtime: str
    debian_mirror: str
    # The base image for `build`: the debootstrap import (default) or e.g. debian:trixie-slim.
    base_image: str
    # PEM file mounted as build secret `extra-ca` into build stages (never into a final image).
    extra_ca: Path | None

    def storage_flags(self) -> list[str]:
        """Global flags that point buildah and podman at the same image store."""
        flags = []
        if self.storage_root:
            flags += ["--root", str(self.storage_root), "--runroot", str(self.storage_root) + "-run"]
        if self.storage_driver:
            flags += ["--storage-driver", self.storage_driver]
        return flags

    @property
    def logs_dir(self) -> Path:
        return self.images_dir / "logs"

    def archive(self, name: str) -> Path:
        """Where `make images` leaves an image: $QUESTLINE_CACHE/images/<name>.oci.tar."""
        return self.images_dir / f"{name}.oci.tar"


def load() -> Settings:
    cache = cache_dir()
    storage = raw("QUESTLINE_IMAGES_STORAGE_ROOT")
    driver = raw("QUESTLINE_IMAGES_STORAGE_DRIVER")
    if driver not in ("", "overlay", "vfs"):
        raise SettingsError(
            f"QUESTLINE_IMAGES_STORAGE_DRIVER={driver!r} is not a storage driver (expected overlay or vfs)"
        )
    runtime = text("QUESTLINE_IMAGES_RUNTIME", "runc")
    mirror = http_url("QUESTLINE_DEBIAN_MIRROR", versions()["base"]["mirror"], example="http://deb.debian.org/debian")
    base = text("QUESTLINE_IMAGES_BASE", versions()["base"]["local_image"])
    images_dir = path("QUESTLINE_IMAGES_DIR", cache / "images")
    return Settings(
        cache_dir=cache,
        images_dir=images_dir,
        storage_root=Path(storage).resolve() if storage else None,
        storage_driver=driver,
        runtime=runtime,
        debian_mirror=mirror,
        base_image=base,
        extra_ca=_extra_ca(images_dir),
    )


def _extra_ca(images_dir: Path) -> Path | None:
    """The CA certificates this machine trusts beyond Debian's (here: a TLS-inspecting egress proxy),
    which build stages need to reach PyPI and Maven Central. QUESTLINE_IMAGES_EXTRA_CA names a PEM
    file, or `none`; by default every /usr/local/share/ca-certificates/*.crt, concatenated."""
    value = raw("QUESTLINE_IMAGES_EXTRA_CA")
    if value == "none":
        return None
    if value:
        pem = Path(value).expanduser()
        if not pem.is_file():
            raise SettingsError(f"QUESTLINE_IMAGES_EXTRA_CA={value!r} is not a file (expected a PEM file, or none)")
        return pem
    local = sorted(Path("/usr/local/share/ca-certificates").glob("**/*.crt"))
    if not local:
        return None
    bundle = images_dir / "extra-ca.crt"
    text = "".join(p.read_text() for p in local)
    if not bundle.is_file() or bundle.read_text() != text:
        bundle.parent.mkdir(parents=True, exist_ok=True)
        bundle.write_text(text)
    return bundle
