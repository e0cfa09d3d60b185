"""buildah, run for questline: builds of images/<name>/Dockerfile with layer reuse, OCI archives
in the cache, pushes to a plain-HTTP registry. Every step prints progress; a failure names its log."""

import dataclasses
import resource
import shutil
import subprocess
import time
from pathlib import Path

from questline_devkit.versions import repo_root
from questline_images.settings import Settings
from questline_images.specs import ImageSpec


class BuildError(RuntimeError):
    pass


def _buildah() -> str:
    found = shutil.which("buildah")
    if found is None:
        raise BuildError("buildah not found: run `make images-deps` (installs Debian's buildah, runc, debootstrap)")
    return found


def run_buildah(s: Settings, *args: str) -> str:
    argv = [_buildah(), *s.storage_flags(), *args]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(argv)} failed (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def exists(s: Settings, ref: str) -> bool:
    argv = [_buildah(), *s.storage_flags(), "inspect", "--type", "image", ref]
    return subprocess.run(argv, capture_output=True).returncode == 0


def _podman_inspect(s: Settings, ref: str, template: str) -> str:
    argv = ["podman", *s.storage_flags(), "image", "inspect", "--format", template, ref]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        raise BuildError(f"{' '.join(argv)} failed:\n{result.stderr[-2000:]}")
    return result.stdout.strip()


def image_size(s: Settings, ref: str) -> int:
    """Bytes of the image's layers as stored (uncompressed), as `podman images` shows."""
    return int(_podman_inspect(s, ref, "{{.Size}}"))


@dataclasses.dataclass(frozen=True)
class BuildResult:
    name: str
    ref: str
    wall_seconds: float
    cpu_seconds: float
    size_bytes: int
    archive: Path


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(s: Settings, image: ImageSpec, *, extra_tags: tuple[str, ...] = ()) -> BuildResult:
    """buildah build of one Dockerfile (context: the repository root), then its OCI archive."""
    s.logs_dir.mkdir(parents=True, exist_ok=True)
    log = s.logs_dir / f"{image.name}.log"
    argv = [
        _buildah(),
        *s.storage_flags(),
        "build",
        "--layers",
        # Build steps share the host's network namespace: no bridge, no NAT, no private CIDR.
        "--network=host",
        "--runtime",
        s.runtime,
        # The base is local (the debootstrap import); pull only what is missing (a laptop's Docker Hub base).
        "--pull=false",
        "--file",
        str(image.dockerfile),
        "--ignorefile",
        str(image.ignorefile),
        "--tag",
        image.ref,
    ]
    for extra in extra_tags:
        argv += ["--tag", extra]
    if s.extra_ca:
        argv += ["--secret", f"id=extra-ca,src={s.extra_ca}"]
    for key, value in image.build_args.items():
        argv += ["--build-arg", f"{key}={value}"]
    argv.append(str(repo_root()))
    print(f"[images] {image.name}: buildah build -> {image.ref} (log: {log})", flush=True)
    started, cpu0 = time.monotonic(), _children_cpu()
    with open(log, "w") as out:
        out.write(" ".join(argv) + "\n")
        out.flush()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            # Multi-stage builds prefix steps with their stage: "[2/3] STEP 4/7: RUN ...".
            if "STEP " in line[:16]:
                print(f"[images] {image.name}: {line.rstrip()[:150]}", flush=True)
        rc = proc.wait()
    if rc != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-25:])
        raise BuildError(f"{image.name}: buildah build failed (exit {rc}); see {log}\n{tail}")
    archive = s.archive(image.name)
    # An unchanged image (every layer from the cache) keeps its archive: rewriting ~1 GB of
    # archives would be most of a warm build.
    image_id = _podman_inspect(s, image.ref, "{{.Id}}")
    id_file = archive.with_name(archive.name + ".id")
    if not (archive.is_file() and id_file.is_file() and id_file.read_text().strip() == image_id):
        tmp = archive.with_name(archive.name + ".tmp")
        tmp.unlink(missing_ok=True)
        run_buildah(s, "push", "--quiet", image.ref, f"oci-archive:{tmp}:{image.repository}:{image.tag}")
        tmp.rename(archive)
        id_file.write_text(image_id + "\n")
    result = BuildResult(
        image.name,
        image.ref,
        time.monotonic() - started,
        _children_cpu() - cpu0,
        image_size(s, image.ref),
        archive,
    )
    print(
        f"[images] {image.name}: {result.size_bytes / 1e6:.0f} MB, {result.wall_seconds:.0f} s wall, "
        f"{result.cpu_seconds:.0f} s CPU; archive {archive}",
        flush=True,
    )
    return result


def push(s: Settings, ref: str, target: str) -> None:
    """Push to a registry over plain HTTP (the node's local registry on 127.0.0.1:5000)."""
    print(f"[images] pushing {ref} -> {target} (plain HTTP)", flush=True)
    run_buildah(s, "push", "--tls-verify=false", ref, f"docker://{target}")
