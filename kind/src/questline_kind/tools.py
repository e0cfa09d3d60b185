"""The pinned command-line tools (versions.toml [tools]) and what this machine can run.

Everything lands in ${QUESTLINE_CACHE}/bin with a `.<name>.version` stamp file, and a binary already
on PATH is used as is:
- kind: `go install sigs.k8s.io/kind@<version>` (its go.mod has no replace/exclude directives).
- skaffold: `go install` refuses it (its go.mod has replace and exclude directives), so it is built
  with `go build` in the wrapper module tools/skaffold/ (its go.mod repeats those directives; go.sum
  pins every dependency; GOFLAGS=-mod=readonly), the way apiserver/ builds kube-apiserver.
- helm (and kubeconform): tools/install.sh, which `make tools` and `make charts-check` run too.
"""

import contextlib
import fcntl
import json
import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path

import docker
import docker.errors

from questline_devkit.versions import versions
from questline_kind.settings import Settings

SKAFFOLD_MODULE = "github.com/GoogleContainerTools/skaffold/v2"
KIND_MODULE = "sigs.k8s.io/kind"

# name -> (Go package to install, linker flags that stamp the version into the binary)
_GO_TOOLS: dict[str, tuple[str, str]] = {
    "kind": (KIND_MODULE, ""),
}
# The wrapper module of skaffold, and what skaffold's own Makefile passes for a Linux release build.
SKAFFOLD_WRAPPER = "tools/skaffold"
SKAFFOLD_PACKAGE = f"{SKAFFOLD_MODULE}/cmd/skaffold"
SKAFFOLD_TAGS = "timetzdata osusergo netgo static_build release"


class ToolError(RuntimeError):
    pass


def _go_env(settings: Settings) -> dict[str, str]:
    cache = settings.cache_dir
    return {
        **os.environ,
        "GOFLAGS": "-mod=mod",
        "GOPATH": str(cache / "go"),
        "GOCACHE": str(cache / "gocache"),
        "GOBIN": str(settings.bin_dir),
    }


def _go_build_env(settings: Settings) -> dict[str, str]:
    """go build in a wrapper module: go.mod and go.sum are the pins, never rewritten, and the machine's
    Go is used (no toolchain download). Static binary, as skaffold releases it."""
    return {
        **_go_env(settings),
        "GOFLAGS": "-mod=readonly -buildvcs=false",
        "GOTOOLCHAIN": "local",
        "CGO_ENABLED": "0",
    }


@contextlib.contextmanager
def _bin_lock(settings: Settings):
    """The same lock as tools/install.sh: one builder writes ${QUESTLINE_CACHE}/bin at a time."""
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.cache_dir / "tools.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _go() -> str:
    go = shutil.which("go")
    if not go:
        raise ToolError("go not found: install Go >= 1.26 (it builds the pinned kind and skaffold)")
    return go


def find(settings: Settings, name: str) -> str | None:
    """The path of a tool: $QUESTLINE_<NAME>, then PATH, then the cache's bin directory."""
    override = os.environ.get(f"QUESTLINE_{name.upper()}")
    if override:
        return override
    cached = settings.bin_dir / name
    return shutil.which(name) or (str(cached) if os.access(cached, os.X_OK) else None)


def _stamped(settings: Settings, name: str, version: str) -> bool:
    stamp = settings.bin_dir / f".{name}.version"
    binary = settings.bin_dir / name
    return os.access(binary, os.X_OK) and stamp.is_file() and stamp.read_text().strip() == version


def ensure(settings: Settings, name: str) -> str:
    """The path of a tool, building the pinned version if none is there."""
    found = find(settings, name)
    if found and not (found == str(settings.bin_dir / name) and not _stamped(settings, name, _pin(name))):
        return found
    if name == "skaffold":
        return build_skaffold(settings)
    if name in ("helm", "kubeconform"):
        return _install_sh(settings, name)
    if name not in _GO_TOOLS:
        raise ToolError(f"{name} not found on PATH or in {settings.bin_dir}")
    version = versions()["tools"][name]
    package, ldflags = _GO_TOOLS[name]
    settings.bin_dir.mkdir(parents=True, exist_ok=True)
    print(f"[kind] building {name} {version} with go install (once per version; skaffold takes minutes)", flush=True)
    subprocess.run(
        ["nice", _go(), "install", "-trimpath", "-ldflags", ldflags.format(version=version), f"{package}@{version}"],
        env=_go_env(settings),
        check=True,
    )
    (settings.bin_dir / f".{name}.version").write_text(version + "\n")
    return str(settings.bin_dir / name)


def _pin(name: str) -> str:
    return versions()["tools"].get(name, "")


def _install_sh(settings: Settings, name: str) -> str:
    """helm and kubeconform come from tools/install.sh (one builder for `make tools` and this CLI)."""
    script = settings.repo / "tools" / "install.sh"
    print(f"[kind] {name} missing: running {script} (builds helm and kubeconform once per pin)", flush=True)
    env = {**os.environ, "QUESTLINE_CACHE": str(settings.cache_dir)}
    result = subprocess.run([str(script)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise ToolError(f"{script} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    binary = settings.bin_dir / name
    if not os.access(binary, os.X_OK):
        raise ToolError(f"{script} finished but {binary} is not there")
    return str(binary)


def wrapper_require(go_mod: Path, module: str) -> str | None:
    """The version a wrapper go.mod requires of module (None if it does not)."""
    for line in go_mod.read_text().splitlines():
        match = re.fullmatch(r"(?:require\s+)?(\S+)\s+(v\S+)", line.split("//")[0].strip())
        if match and match.group(1) == module:
            return match.group(2)
    return None


def skaffold_ldflags(settings: Settings, version: str) -> str:
    """What skaffold's Makefile stamps: version, commit and build date. The date is the release tag's
    commit time from the module proxy (not the build time), so two builds give the same binary."""
    info = {}
    with contextlib.suppress(ToolError):
        info = _module_info(settings, SKAFFOLD_MODULE, version)
    package = f"{SKAFFOLD_MODULE}/pkg/skaffold/version"
    flags = ["-s", "-w", f"-X {package}.version={version}"]
    if info.get("Origin", {}).get("Hash"):
        flags.append(f"-X {package}.gitCommit={info['Origin']['Hash']}")
    if info.get("Time"):
        flags.append(f"-X {package}.buildDate={info['Time']}")
    return " ".join(flags)


def build_skaffold(settings: Settings, *, force: bool = False) -> str:
    """Build the pinned skaffold from the wrapper module into ${QUESTLINE_CACHE}/bin (once per version)."""
    version = _pin("skaffold")
    module_dir = settings.repo / SKAFFOLD_WRAPPER
    pinned = wrapper_require(module_dir / "go.mod", SKAFFOLD_MODULE)
    if pinned != version:
        raise ToolError(
            f"{SKAFFOLD_WRAPPER}/go.mod requires {SKAFFOLD_MODULE} {pinned}, versions.toml [tools].skaffold is "
            f"{version}: update the require, copy the replace/exclude lines of that release's go.mod, run "
            "`go mod tidy` there"
        )
    binary = settings.bin_dir / "skaffold"
    with _bin_lock(settings):
        if _stamped(settings, "skaffold", version) and not force:
            return str(binary)
        settings.bin_dir.mkdir(parents=True, exist_ok=True)
        partial = binary.with_name("skaffold.partial")
        log = settings.cache_dir / "logs" / f"skaffold-{version}-build.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        argv = [
            "nice", "-n", "10", _go(), "build", "-trimpath", "-tags", SKAFFOLD_TAGS,
            "-ldflags", skaffold_ldflags(settings, version), "-o", str(partial), SKAFFOLD_PACKAGE,
        ]  # fmt: skip
        print(f"[kind] building skaffold {version} in {module_dir} (cold: ~7 min; log: {log})", flush=True)
        started = time.monotonic()
        cpu_before = _children_cpu_seconds()
        with open(log, "w") as out:
            out.write(" ".join(argv) + "\n")
            out.flush()
            result = subprocess.run(argv, cwd=module_dir, env=_go_build_env(settings), stdout=out, stderr=out)
        if result.returncode != 0:
            tail = log.read_text()[-3000:]
            raise ToolError(f"go build of skaffold {version} failed (exit {result.returncode}; log {log}):\n{tail}")
        partial.rename(binary)
        (settings.bin_dir / ".skaffold.version").write_text(version + "\n")
        took = time.monotonic() - started
        cpu = _children_cpu_seconds() - cpu_before
        print(f"[kind] built {binary} in {took:.0f}s ({cpu:.0f} CPU-s)", flush=True)
    return str(binary)


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _module_info(settings: Settings, module: str, version: str) -> dict:
    result = subprocess.run(
        [_go(), "mod", "download", "-json", f"{module}@{version}"],
        env=_go_env(settings),
        capture_output=True,
        text=True,
        check=False,
    )
    info = json.loads(result.stdout or "{}")
    if result.returncode != 0 or "Dir" not in info:
        raise ToolError(f"go mod download {module}@{version} failed: {info.get('Error') or result.stderr}")
    if info.get("Info"):
        with contextlib.suppress(OSError, ValueError):
            info |= json.loads(Path(info["Info"]).read_text())
    return info


def go_module(settings: Settings, module: str, version: str) -> Path:
    """The source of a Go module version, downloaded once into the cache through the module proxy."""
    return Path(_module_info(settings, module, version)["Dir"])


def skaffold_schema(settings: Settings, api_version: str) -> Path:
    """skaffold's published JSON schema for api_version (e.g. skaffold/v4beta14), from the Go module
    of the pinned skaffold release."""
    version = versions()["tools"]["skaffold"]
    schemas = go_module(settings, SKAFFOLD_MODULE, version) / "docs-v2" / "content" / "en" / "schemas"
    schema = schemas / f"{api_version.split('/')[-1]}.json"
    if not schema.is_file():
        raise ToolError(f"skaffold {version} publishes no schema for {api_version} (looked for {schema})")
    return schema


def kind_default_node_image(settings: Settings) -> str:
    """The node image the pinned kind release was built and tested with (its compiled-in default)."""
    source = go_module(settings, KIND_MODULE, versions()["tools"]["kind"])
    defaults = (source / "pkg" / "apis" / "config" / "defaults" / "image.go").read_text()
    match = re.search(r'const Image = "([^"]+)"', defaults)
    if not match:
        raise ToolError(f"no default node image found in {source}/pkg/apis/config/defaults/image.go")
    return match.group(1)


def docker_engine_problem() -> str | None:
    """Why images cannot be built here, or None when a Docker engine answers."""
    if not shutil.which("docker"):
        return "the docker CLI is not installed"
    try:
        client = docker.from_env(timeout=5)
        try:
            client.ping()
        finally:
            client.close()
    except docker.errors.DockerException as exc:
        return f"the docker CLI is installed but no Docker engine answers ({exc})"
    return None
