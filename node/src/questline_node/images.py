"""The node's own images, built with buildah from our static binaries (node/images/*/Containerfile),
and the node's registry: push OCI archives into it, ask it what it holds.

Every image a pod runs comes from the registry on 127.0.0.1:5000 (configs.MIRRORED): the
system images are pushed by `up`, project images by `node-load IMAGE=<name>`."""

import dataclasses
import json
import shutil
import subprocess
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from questline_devkit.artifacts import cache_dir
from questline_devkit.versions import repo_root, versions
from questline_node.build import BuildError, exclusive, log
from questline_node.settings import BuildSettings, NodeSettings

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@dataclasses.dataclass(frozen=True)
class Image:
    name: str  # folder under node/images
    repository: str
    tag: str
    binaries: tuple[str, ...] = ()  # built binaries copied into the build context
    busybox: bool = False  # the context gets a busybox rootfs/

    @property
    def ref(self) -> str:
        return f"{self.repository}:{self.tag}"


def system_images(s: BuildSettings) -> dict[str, Image]:
    found = [
        Image("pause", "questline/pause", s.version_of("pause"), ("pause",)),
        Image("coredns", "questline/coredns", s.coredns_version, ("coredns",)),
        Image(
            "local-path-provisioner",
            "questline/local-path-provisioner",
            s.local_path_version,
            ("local-path-provisioner",),
        ),
        Image("traefik", "questline/traefik", s.traefik_version, ("traefik",)),
        Image("busybox", "questline/busybox", busybox_version(), busybox=True),
    ]
    return {image.name: image for image in found}


def test_image(s: BuildSettings) -> Image:
    return Image("node-test", "questline/node-test", f"{busybox_version()}-{s.version_of('node-probe')}",
                 ("node-probe",), busybox=True)  # fmt: skip


def busybox_version() -> str:
    return versions()["node_runtime"]["busybox"]


def _buildah(s: BuildSettings, *args: str) -> str:
    # Storage of our own (vfs: no overlay mounts to clean up), beside the build cache.
    argv = [
        "buildah",
        f"--root={s.build_dir / 'buildah' / 'storage'}",
        f"--runroot={s.build_dir / 'buildah' / 'run'}",
        "--storage-driver=vfs",
        *args,
    ]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"`buildah {args[0]}` failed:\n{result.stderr[-3000:]}")
    return result.stdout


def busybox_rootfs(s: BuildSettings) -> Path:
    """bin/busybox from Debian's busybox-static package and a link per applet."""
    rootfs = s.build_dir / "busybox" / f"rootfs-{busybox_version()}"
    if (rootfs / "bin" / "sh").exists():
        return rootfs
    debs = s.build_dir / "busybox" / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    log("fetching busybox-static (Debian)")
    result = subprocess.run(["apt-get", "download", "busybox-static"], cwd=debs, capture_output=True, text=True)
    if result.returncode != 0:
        # A fresh machine may have no package lists yet.
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, text=True)
        result = subprocess.run(["apt-get", "download", "busybox-static"], cwd=debs, capture_output=True, text=True)
    found = sorted(debs.glob("busybox-static_*.deb"))
    if not found:
        raise BuildError(f"apt-get download busybox-static failed: {result.stderr.strip()}")
    deb = found[-1]
    # busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb: epoch 1, URL-quoted.
    version = urllib.parse.unquote(deb.name.split("_")[1]).split(":")[-1]
    if not version.startswith(busybox_version()):
        raise BuildError(
            f"Debian's busybox-static is {version}, versions.toml [node_runtime].busybox says {busybox_version()}"
        )
    unpacked = s.build_dir / "busybox" / "deb"
    shutil.rmtree(unpacked, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(unpacked)], check=True)
    tmp = rootfs.with_name(rootfs.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "bin").mkdir(parents=True)
    shutil.copy2(unpacked / "bin" / "busybox", tmp / "bin" / "busybox")
    applets = subprocess.run([str(tmp / "bin" / "busybox"), "--list"], capture_output=True, text=True, check=True)
    for applet in applets.stdout.split():
        if applet != "busybox":
            (tmp / "bin" / applet).symlink_to("busybox")
    for folder in ("tmp", "etc", "data"):
        (tmp / folder).mkdir()
    (tmp / "tmp").chmod(0o1777)
    (tmp / "etc" / "passwd").write_text("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    (tmp / "etc" / "group").write_text("root:x:0:\nnobody:x:65534:\n")
    shutil.rmtree(rootfs, ignore_errors=True)
    tmp.rename(rootfs)
    return rootfs


def archive_of(s: BuildSettings, image: Image) -> Path:
    return s.images_dir / f"{image.name}-{image.tag}.oci.tar"


def build_image(s: BuildSettings, image: Image) -> Path:
    """The image's OCI archive, built once per tag."""
    archive = archive_of(s, image)
    if archive.exists():
        return archive
    with exclusive(s.build_dir / "images.lock"):
        if archive.exists():
            return archive
        context = s.build_dir / "image-context" / image.name
        shutil.rmtree(context, ignore_errors=True)
        context.mkdir(parents=True)
        source = repo_root() / "node" / "images" / image.name / "Containerfile"
        shutil.copy2(source, context / "Containerfile")
        for binary in image.binaries:
            if not s.binary(binary).exists():
                raise BuildError(f"{s.binary(binary)} is not built; run `make node-build`")
            shutil.copy2(s.binary(binary), context / binary)
        if image.busybox:
            shutil.copytree(busybox_rootfs(s), context / "rootfs", symlinks=True)
        (context / "tmp").mkdir(exist_ok=True)
        log(f"building image {image.ref} with buildah")
        local = f"localhost/{image.ref}"
        # --network=host: a build step never gets a bridge or NAT of its own (none has RUN steps today).
        _buildah(s, "bud", "--quiet", "--format=oci", "--layers=false", "--network=host", f"--tag={local}",
                 f"--file={context / 'Containerfile'}", str(context))  # fmt: skip
        s.images_dir.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        partial.unlink(missing_ok=True)
        _buildah(s, "push", "--quiet", local, f"oci-archive:{partial}:{image.ref}")
        _buildah(s, "rmi", local)
        partial.rename(archive)
        shutil.rmtree(context, ignore_errors=True)
        return archive


def in_registry(s: NodeSettings, repository: str, tag: str) -> bool:
    request = urllib.request.Request(
        f"http://{s.registry}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST))},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return False
        raise


def registry_ready(s: NodeSettings) -> bool:
    with urllib.request.urlopen(f"http://{s.registry}/v2/", timeout=2) as response:
        return response.status == 200


def archive_ref(archive: Path) -> str | None:
    """The image name an OCI archive carries (org.opencontainers.image.ref.name of its index)."""
    with tarfile.open(archive) as tar:
        member = tar.extractfile("index.json")
        if member is None:
            return None
        index = json.load(member)
    for manifest in index.get("manifests", []):
        ref = manifest.get("annotations", {}).get("org.opencontainers.image.ref.name")
        if ref:
            return ref
    return None


def registry_path(ref: str) -> str:
    """Where an image lives in the node's registry: its name without the registry host
    (docker.io/library/x and quay.io/org/x are served through the mirrors, configs.MIRRORED)."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        ref = rest
    name, _, tag = ref.rpartition(":")
    if not name or "/" in tag:
        name, tag = ref, "latest"
    return f"{name}:{tag}"


def push(s: NodeSettings, archive: Path, target: str) -> None:
    """Copy an OCI archive into the node's registry as `target` (repository:tag)."""
    log(f"pushing {archive.name} to {s.registry}/{target}")
    result = subprocess.run(
        [
            "skopeo",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci-archive:{archive}",
            f"docker://{s.registry}/{target}",
        ],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BuildError(f"skopeo could not push {archive} to {s.registry}/{target}:\n{result.stderr[-3000:]}")


def ensure(s: NodeSettings, image: Image) -> str:
    """Build the image if needed and make sure the registry has it; return the ref pods use."""
    if not in_registry(s, image.repository, image.tag):
        push(s, build_image(s, image), image.ref)
    return f"{s.registry}/{image.ref}"


def project_archive(name: str) -> Path:
    """Where the images helper (`make images`) leaves an image: $QUESTLINE_CACHE/images/<name>.oci.tar."""
    cache = cache_dir()
    return cache / "images" / f"{name}.oci.tar"


def load(s: NodeSettings, name_or_path: str) -> str:
    """`node-load IMAGE=<name>`: push the archive into the registry under the name it carries
    (questline/<name>:<tag>; questline/<name>:latest if it carries none). Returns the ref."""
    archive = Path(name_or_path) if name_or_path.endswith(".tar") else project_archive(name_or_path)
    if not archive.is_file():
        raise BuildError(f"{archive} does not exist; build it first (`make images IMAGE={name_or_path}`)")
    carried = archive_ref(archive)
    target = registry_path(carried) if carried else f"questline/{archive.name.removesuffix('.oci.tar')}:latest"
    push(s, archive, target)
    return f"{s.registry}/{target}"
