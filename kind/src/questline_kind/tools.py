"""The pinned command-line tools (versions.toml [tools]) and what this machine can run.

kind and skaffold are built with `go install` into ${QUESTLINE_CACHE}/bin, with the same stamp
files as tools/install.sh uses for helm and kubeconform; a binary already on PATH is used as is.
"""

import json
import os
import re
import shutil
import subprocess
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
    "skaffold": (
        f"{SKAFFOLD_MODULE}/cmd/skaffold",
        f"-X {SKAFFOLD_MODULE}/pkg/skaffold/version.version={{version}}",
    ),
}


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


def ensure(settings: Settings, name: str) -> str:
    """The path of a tool, building the pinned version with `go install` if none is there."""
    found = find(settings, name)
    if found:
        return found
    if name not in _GO_TOOLS:
        raise ToolError(f"{name} not found on PATH or in {settings.bin_dir}; tools/install.sh builds it")
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


def go_module(settings: Settings, module: str, version: str) -> Path:
    """The source of a Go module version, downloaded once into the cache through the module proxy."""
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
    return Path(info["Dir"])


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
