"""Build the cluster's binaries from the wrapper modules in node/go/, once per pinned version."""

import contextlib
import dataclasses
import fcntl
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from questline_node.settings import BuildSettings


class BuildError(RuntimeError):
    pass


def log(msg: str) -> None:
    # Progress on stderr: stdout carries only results (the KUBECONFIG line, a pushed ref, JSON).
    print(f"[node] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def exclusive(lock_file: Path):
    """Hold an exclusive lock on lock_file: several engineers' test sessions share the cache and state."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# Kubernetes binaries built together from node/go/kubernetes: one `go build` of several
# packages compiles the packages they share once.
KUBERNETES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "kubectl")


@dataclasses.dataclass(frozen=True)
class Target:
    name: str
    module: str  # folder under node/go
    package: str
    ldflags: str = ""


def _version_ldflags(version: str) -> str:
    # What Kubernetes' own release build stamps (hack/lib/version.sh); without it the
    # binaries report v0.0.0 (the node v0.0.0-master), and Helm's kubeVersion checks fail.
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


def targets(s: BuildSettings) -> dict[str, Target]:
    kube_flags = _version_ldflags(s.kubernetes_version)
    found = [Target(name, "kubernetes", f"k8s.io/kubernetes/cmd/{name}", kube_flags) for name in KUBERNETES]
    found += [
        Target("etcd", "etcd", "questline.local/node/etcd"),
        Target(
            "coredns",
            "coredns",
            "questline.local/node/coredns",
            # What CoreDNS's Makefile stamps, so `coredns -version` names the commit it was built from.
            f"-X github.com/coredns/coredns/coremain.GitCommit=v{s.coredns_version}",
        ),
        Target(
            "registry",
            "registry",
            "github.com/distribution/distribution/v3/cmd/registry",
            f"-X github.com/distribution/distribution/v3/version.version=v{s.registry_version}",
        ),
        Target("local-path-provisioner", "local-path-provisioner", "github.com/rancher/local-path-provisioner"),
        Target(
            "traefik",
            "traefik",
            "github.com/traefik/traefik/v3/cmd/traefik",
            f"-X github.com/traefik/traefik/v3/pkg/version.Version={s.traefik_version}",
        ),
        Target("crictl", "crictl", "sigs.k8s.io/cri-tools/cmd/crictl"),
        Target("pause", "pause", "questline.local/node/pause"),
        Target("node-probe", "node-probe", "questline.local/node/node-probe"),
    ]
    return {t.name: t for t in found}


# What each way of running needs.
APISERVER_ONLY = ("etcd", "kube-apiserver")
NODE = (
    *KUBERNETES,
    "etcd",
    "coredns",
    "registry",
    "local-path-provisioner",
    "traefik",
    "crictl",
    "pause",
    "node-probe",
)


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


def expected_pins(s: BuildSettings) -> dict[tuple[str, str], str]:
    """(wrapper module folder, required module) -> the version versions.toml implies."""
    return {
        ("kubernetes", "k8s.io/kubernetes"): f"v{s.kubernetes_version}",
        ("etcd", "go.etcd.io/etcd/server/v3"): f"v{s.etcd_version}",
        ("coredns", "github.com/coredns/coredns"): f"v{s.coredns_version}",
        ("registry", "github.com/distribution/distribution/v3"): f"v{s.registry_version}",
        ("local-path-provisioner", "github.com/rancher/local-path-provisioner"): f"v{s.local_path_version}",
        ("traefik", "github.com/traefik/traefik/v3"): f"v{s.traefik_version}",
        ("crictl", "sigs.k8s.io/cri-tools"): f"v{s.cri_tools_version}",
    }


def check_pins(s: BuildSettings) -> None:
    """Refuse to build when a wrapper go.mod and versions.toml disagree."""
    kube_mod = s.modules_dir / "kubernetes" / "go.mod"
    _major, minor, patch = s.kubernetes_version.split(".")
    staging = f"v0.{minor}.{patch}"
    checks = {
        (folder, module): (required(s.modules_dir / folder / "go.mod").get(module), want)
        for (folder, module), want in expected_pins(s).items()
    }
    checks |= {
        ("kubernetes", module): (version, staging)
        for module, version in replaced(kube_mod).items()
        if module.startswith("k8s.io/")
    }
    wrong = [
        f"{module} is {found}, expected {want} ({folder}/go.mod)"
        for (folder, module), (found, want) in checks.items()
        if found != want
    ]
    if wrong:
        raise BuildError(
            "the wrapper modules disagree with versions.toml: "
            + "; ".join(wrong)
            + ". Edit the go.mod and run `go mod tidy` in its folder."
        )


def go_env(s: BuildSettings) -> dict[str, str]:
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


def build(s: BuildSettings, names: tuple[str, ...] = NODE, *, force: bool = False) -> dict[str, float]:
    """Build what is missing of `names`; return the seconds each build took (empty when nothing was built)."""
    check_pins(s)
    # A second caller waits here and then finds the binaries built.
    with exclusive(s.build_dir / "build.lock"):
        return _build(s, names, force=force)


def _build(s: BuildSettings, names: tuple[str, ...], *, force: bool) -> dict[str, float]:
    s.bin_dir.mkdir(parents=True, exist_ok=True)
    all_targets = targets(s)
    wanted = [all_targets[n] for n in names if force or not s.binary(n).exists()]
    for name in names:
        if s.binary(name).exists() and not force:
            log(f"{name} v{s.version_of(name)}: {s.binary(name)} exists, not rebuilding")
    took: dict[str, float] = {}
    # One go build per wrapper module: the Kubernetes binaries compile their shared packages once.
    groups: dict[str, list[Target]] = {}
    for target in wanted:
        groups.setdefault(target.module, []).append(target)
    for module, group in groups.items():
        stage = s.bin_dir / f".stage-{module}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir()
        names_built = ", ".join(t.name for t in group)
        argv = [
            "nice",
            "-n",
            "10",
            "go",
            "build",
            f"-p={s.build_jobs}",
            "-trimpath",
            f"-ldflags=-s -w {group[0].ldflags}".strip(),
            "-o",
            # A folder: go build writes each command there under its own name.
            str(stage) + "/",
            *[t.package for t in group],
        ]
        slow = "; cold: many minutes" if module in ("kubernetes", "traefik") else ""
        log(f"building {names_built} (-p {s.build_jobs}{slow})")
        started = time.monotonic()
        cpu_before = _children_cpu_seconds()
        result = subprocess.run(argv, cwd=s.modules_dir / module, env=go_env(s), capture_output=True, text=True)
        if result.returncode != 0:
            raise BuildError(f"go build of {names_built} failed in {s.modules_dir / module}:\n{result.stderr[-4000:]}")
        for target in group:
            built = stage / target.package.rsplit("/", 1)[-1]
            built.rename(s.binary(target.name))
        shutil.rmtree(stage, ignore_errors=True)
        elapsed = time.monotonic() - started
        for target in group:
            took[target.name] = elapsed
        # CPU seconds say more than wall time on a shared machine.
        log(f"built {names_built} in {elapsed:.0f}s ({_children_cpu_seconds() - cpu_before:.0f} CPU-s)")
    return took
