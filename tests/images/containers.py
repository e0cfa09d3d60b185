"""Real containers for the image tests: podman with runc (crun refuses this machine's hugetlb
layout), every container on the host's network namespace listening on loopback ports of our own
(QUESTLINE_IMAGES_TEST_PORT_BASE, default 28000: clear of the local stack's 8080, 9092, 8020,
9083, 5433), with a read-only root filesystem, its image's non-root user, /tmp as the only tmpfs
(the chart's emptyDir) and host directories as the volumes the chart would mount."""

import dataclasses
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from questline_images import settings as image_settings
from questline_images import specs
from questline_settings import number

LABEL = "io.questline.test=images"
# The host's hard limits cannot be given to a container here (runc's prlimit is refused); these can.
ULIMITS = ("--ulimit", "nofile=16384:16384", "--ulimit", "nproc=16384:16384")


def port(offset: int) -> int:
    return number("QUESTLINE_IMAGES_TEST_PORT_BASE", 28000, low=1024, high=60000) + offset


@dataclasses.dataclass
class Podman:
    storage_flags: list[str]
    runtime: str
    started: list[str] = dataclasses.field(default_factory=list)

    @classmethod
    def load(cls) -> "Podman":
        if shutil.which("podman") is None:
            raise RuntimeError("podman not found: run `make images-deps`")
        s = image_settings.load()
        return cls(s.storage_flags(), s.runtime)

    def _argv(self, *args: str) -> list[str]:
        return ["podman", *self.storage_flags, *args]

    def image(self, name: str) -> str:
        """The image's local reference; built first (as `make images IMAGE=name` would) when missing."""
        ref = specs.spec(name).ref
        if subprocess.run(self._argv("image", "exists", ref)).returncode != 0:
            from questline_images import cli

            if cli.main(["build", name]) != 0:
                raise RuntimeError(f"image {ref} is not built and building it failed (see the output above)")
        return ref

    def user(self, ref: str) -> str:
        return subprocess.run(
            self._argv("image", "inspect", "--format", "{{.Config.User}}", ref), capture_output=True, text=True
        ).stdout.strip()

    def _run_argv(self, ref: str, args: tuple[str, ...], env, volumes) -> list[str]:
        argv = ["--runtime", self.runtime, "--network", "host", "--read-only", "--read-only-tmpfs=false"]
        argv += ["--tmpfs", "/tmp:rw,mode=1777,size=512m", *ULIMITS, "--label", LABEL]
        for key, value in (env or {}).items():
            argv += ["-e", f"{key}={value}"]
        for host, target in (volumes or {}).items():
            argv += ["-v", f"{host}:{target}"]
        return [*argv, ref, *args]

    def start(self, name: str, ref: str, *args: str, env=None, volumes=None) -> str:
        """Start a container in the background (replacing a leftover of the same name)."""
        subprocess.run(self._argv("rm", "-f", "-t", "5", name), capture_output=True)
        argv = self._argv("run", "-d", "--name", name, *self._run_argv(ref, args, env, volumes))
        result = subprocess.run(argv, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(argv)}:\n{result.stderr}"
        self.started.append(name)
        return name

    def run(self, ref: str, *args: str, env=None, volumes=None, timeout=300) -> subprocess.CompletedProcess:
        """Run a container to completion and return its exit code and output."""
        argv = self._argv("run", "--rm", *self._run_argv(ref, args, env, volumes))
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)

    def logs(self, name: str) -> str:
        result = subprocess.run(self._argv("logs", name), capture_output=True, text=True)
        return result.stdout + result.stderr

    def running(self, name: str) -> bool:
        result = subprocess.run(
            self._argv("inspect", "--format", "{{.State.Running}}", name), capture_output=True, text=True
        )
        return result.stdout.strip() == "true"

    def exec(self, name: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self._argv("exec", name, *args), capture_output=True, text=True, timeout=120)

    def stop(self, name: str, timeout: int = 30) -> None:
        subprocess.run(self._argv("stop", "-t", str(timeout), name), capture_output=True)

    def remove(self, name: str) -> None:
        subprocess.run(self._argv("rm", "-f", "-t", "5", name), capture_output=True)

    def cleanup(self) -> None:
        for name in reversed(self.started):
            self.remove(name)
        self.started.clear()

    def wait(self, name: str, ready: Callable[[], bool], what: str, timeout: float = 180) -> None:
        """Poll ready() until true; fail with the container's log if it exits or time runs out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except Exception:
                pass
            if not self.running(name):
                raise AssertionError(f"container {name} exited before {what}:\n{self.logs(name)[-6000:]}")
            time.sleep(1)
        raise AssertionError(f"container {name} not {what} after {timeout:.0f} s:\n{self.logs(name)[-6000:]}")


def volume(base: Path, name: str, uid: int) -> Path:
    """A host directory for a container's volume, owned by the image's user (as fsGroup would make it)."""
    path = base / name
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, uid)
    return path


def http_get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
