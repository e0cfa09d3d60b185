"""Build kube-apiserver and etcd from the wrapper modules in apiserver/, once per pinned version."""

import contextlib
import dataclasses
import fcntl
import os
import re
import resource
import subprocess
import time
from pathlib import Path

from questline_apiserver.settings import Settings


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    print(f"[apiserver] {msg}", flush=True)


@contextlib.contextmanager
def exclusive(lock_file: Path):
    """Hold an exclusive lock on lock_file: several engineers' test sessions share the cache and state."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    module_dir: Path
    package: str
    binary: Path
    version: str
    ldflags: str


def _version_ldflags(version: str) -> str:
    # What Kubernetes' own release build stamps (hack/lib/version.sh); without it the server
    # reports v0.0.0 and Helm's kubeVersion constraints would fail against it.
    major, minor, _patch = version.split(".")
    flags = []
    for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {package}.gitVersion=v{version}",
            f"-X {package}.gitMajor={major}",
            f"-X {package}.gitMinor={minor}",
            f"-X {package}.gitTreeState=clean",
        ]
    return " ".join(flags)


def targets(s: Settings) -> list[Target]:
    return [
        Target(
            name="etcd",
            module_dir=s.modules_dir / "etcd",
            package="questline.local/apiserver/etcd",
            binary=s.etcd_binary,
            version=s.etcd_version,
            ldflags="",
        ),
        Target(
            name="kube-apiserver",
            module_dir=s.modules_dir / "kube-apiserver",
            package="k8s.io/kubernetes/cmd/kube-apiserver",
            binary=s.kube_apiserver_binary,
            version=s.kubernetes_version,
            ldflags=_version_ldflags(s.kubernetes_version),
        ),
    ]


def _go_mod_lines(go_mod: Path) -> list[str]:
    return [line.split("//")[0].strip() for line in go_mod.read_text().splitlines()]


def required(go_mod: Path) -> dict[str, str]:
    """module -> version of every `require`."""
    pins = {}
    for line in _go_mod_lines(go_mod):
        match = re.fullmatch(r"(?:require\s+)?([\w./-]+)\s+(v\S+)", line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def replaced(go_mod: Path) -> dict[str, str]:
    """module -> version of every `replace module => module version`."""
    pins = {}
    for line in _go_mod_lines(go_mod):
        match = re.fullmatch(r"(?:replace\s+)?([\w./-]+)\s+=>\s+([\w./-]+)\s+(v\S+)", line)
        if match:
            pins[match.group(1)] = match.group(3)
    return pins


def check_pins(s: Settings) -> None:
    """Refuse to build when a wrapper go.mod and versions.toml disagree."""
    kube_mod = s.modules_dir / "kube-apiserver" / "go.mod"
    etcd_mod = s.modules_dir / "etcd" / "go.mod"
    _major, minor, patch = s.kubernetes_version.split(".")
    staging = f"v0.{minor}.{patch}"
    expected = {
        (kube_mod, "k8s.io/kubernetes"): (required(kube_mod).get("k8s.io/kubernetes"), f"v{s.kubernetes_version}"),
        (etcd_mod, "go.etcd.io/etcd/server/v3"): (
            required(etcd_mod).get("go.etcd.io/etcd/server/v3"),
            f"v{s.etcd_version}",
        ),
    }
    expected |= {(kube_mod, module): (version, staging) for module, version in replaced(kube_mod).items()}
    wrong = [
        f"{module} is {found}, expected {want} ({mod.parent.name}/go.mod)"
        for (mod, module), (found, want) in expected.items()
        if found != want
    ]
    if wrong:
        raise BuildError(
            "the wrapper modules disagree with versions.toml: "
            + "; ".join(wrong)
            + ". Edit the go.mod and run `go mod tidy` in its folder."
        )


def go_env(s: Settings) -> dict[str, str]:
    return {
        **os.environ,
        "GOPATH": str(s.build_dir / "gopath"),
        "GOCACHE": str(s.build_dir / "gocache"),
        "GOMODCACHE": str(s.build_dir / "gomod"),
        # go.mod and go.sum are the pins: never rewrite them, never fetch another toolchain.
        "GOFLAGS": "-mod=readonly -buildvcs=false",
        "GOTOOLCHAIN": "local",
        # Static binaries, as Kubernetes releases them.
        "CGO_ENABLED": "0",
    }


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def build(s: Settings, *, force: bool = False) -> dict[str, float]:
    """Build what is missing; return the seconds each build took (empty when nothing was built)."""
    check_pins(s)
    # A second caller waits here and then finds the binaries built.
    with exclusive(s.build_dir / "build.lock"):
        return _build(s, force=force)


def _build(s: Settings, *, force: bool) -> dict[str, float]:
    s.bin_dir.mkdir(parents=True, exist_ok=True)
    took: dict[str, float] = {}
    for target in targets(s):
        if target.binary.exists() and not force:
            log(f"{target.name} v{target.version}: {target.binary} exists, not rebuilding")
            continue
        partial = target.binary.with_name(target.binary.name + ".partial")
        argv = [
            "nice",
            "-n",
            "10",
            "go",
            "build",
            f"-p={s.build_jobs}",
            "-trimpath",
            f"-ldflags=-s -w {target.ldflags}".strip(),
            "-o",
            str(partial),
            target.package,
        ]
        log(f"building {target.name} v{target.version} (-p {s.build_jobs}; a cold kube-apiserver build takes minutes)")
        started = time.monotonic()
        cpu_before = _children_cpu_seconds()
        result = subprocess.run(argv, cwd=target.module_dir, env=go_env(s), capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"go build of {target.name} failed in {target.module_dir}:\n{result.stderr[-4000:]}")
        partial.rename(target.binary)
        took[target.name] = time.monotonic() - started
        # CPU seconds say more than wall time on a shared machine.
        log(f"built {target.binary} in {took[target.name]:.0f}s ({_children_cpu_seconds() - cpu_before:.0f} CPU-s)")
    return took
