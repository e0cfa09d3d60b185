"""Run stack components as detached local processes: pid files, logs, readiness."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from questline_devkit.artifacts import log
from questline_settings import number


class StateDirLayout:
    """Where this module keeps pid files and logs under a `state_dir`; any settings class with a
    state_dir (the stack's, the local control plane's) mixes it in to use spawn/wait_until/stop."""

    state_dir: Path

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"


class StartError(RuntimeError):
    pass


def start_timeout() -> float:
    """QUESTLINE_START_TIMEOUT: how long wait_until waits for a component, unless told otherwise."""
    return float(number("QUESTLINE_START_TIMEOUT", 180, low=1, high=3600, unit="seconds"))


def pid_file(s: StateDirLayout, name: str) -> Path:
    return s.run_dir / f"{name}.pid"


def log_file(s: StateDirLayout, name: str) -> Path:
    return s.logs_dir / f"{name}.log"


def alive(pid: int) -> bool:
    """True while the process exists and is not a zombie (an exited child that
    nobody has reaped yet still answers kill(pid, 0))."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _pid_in_file(s: StateDirLayout, name: str) -> int | None:
    try:
        return int(pid_file(s, name).read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def running_pid(s: StateDirLayout, name: str) -> int | None:
    """The pid of a component we started, if that process is still alive."""
    pid = _pid_in_file(s, name)
    if pid is None or not alive(pid):
        return None
    # Guard against pid reuse: our processes carry the marker in their environment.
    # While a process execs (a launcher script replacing itself with the JVM), its
    # environment reads as empty for a moment: look again before calling it foreign.
    marker = f"QUESTLINE_COMPONENT={name}".encode()
    for _ in range(5):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            environ = b""
        if marker in environ:
            return pid
        if environ or not alive(pid):
            return None
        time.sleep(0.1)
    return None


def spawn(
    s: StateDirLayout,
    name: str,
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    user: str | None = None,
) -> int:
    """Start argv in its own session with output to logs/<name>.log; return its pid."""
    s.logs_dir.mkdir(parents=True, exist_ok=True)
    s.run_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {}), "QUESTLINE_COMPONENT": name}
    if user is not None and os.geteuid() == 0:
        # setpriv execs in place (no forked parent), so the pid file is the server's own.
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", *argv]
    with open(log_file(s, name), "ab") as out:
        out.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}: {' '.join(argv)}\n".encode())
        out.flush()
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
    pid_file(s, name).write_text(str(proc.pid))
    return proc.pid


def tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log file)"


def wait_until(
    s: StateDirLayout,
    name: str,
    probe: Callable[[], bool],
    *,
    timeout: float | None = None,
    what: str = "ready",
) -> None:
    """Poll probe() until it is true; fail naming the component and its log."""
    timeout = timeout or s.start_timeout
    deadline = time.monotonic() + timeout
    started = time.monotonic()
    next_note = started + 15
    while True:
        try:
            if probe():
                log(f"{name} is {what} ({time.monotonic() - started:.1f}s)")
                return
        except Exception:  # a probe failing is the normal "not yet"
            pass
        # The pid we spawned is gone (or a zombie): the server died on its way up.
        spawned = _pid_in_file(s, name)
        if spawned is not None and not alive(spawned):
            raise StartError(
                f"{name} exited before it was {what}; see {log_file(s, name)}\n--- last lines ---\n"
                + tail(log_file(s, name))
            )
        if time.monotonic() > deadline:
            raise StartError(
                f"{name} was not {what} within {timeout:.0f}s (QUESTLINE_START_TIMEOUT); see {log_file(s, name)}"
                "\n--- last lines ---\n" + tail(log_file(s, name))
            )
        if time.monotonic() > next_note:
            log(f"  still waiting for {name} ({time.monotonic() - started:.0f}s)")
            next_note += 15
        time.sleep(0.5)


def stop(s: StateDirLayout, name: str, *, timeout: float = 30) -> bool:
    """SIGTERM the component's process group, SIGKILL after timeout. True if it ran."""
    pid = running_pid(s, name)
    if pid is None:
        pid_file(s, name).unlink(missing_ok=True)
        return False
    log(f"stopping {name} (pid {pid})")
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and running_pid(s, name) is not None:
        time.sleep(0.3)
    if running_pid(s, name) is not None:
        log(f"  {name} did not stop in {timeout:.0f}s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    pid_file(s, name).unlink(missing_ok=True)
    return True


def kill(s: StateDirLayout, name: str) -> None:
    """SIGKILL without grace: used by fault-injection tests."""
    pid = running_pid(s, name)
    if pid is not None:
        os.killpg(pid, signal.SIGKILL)


def rss_mib(pid: int) -> float:
    """Memory of a process and its children, in MiB.

    Proportional set size (PSS): memory shared between the processes (PostgreSQL's
    shared buffers, shared libraries) is divided among them instead of counted once
    per process, so the sum is what the component really costs. Falls back to RSS
    where smaps_rollup is unavailable.
    """
    total_kib = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for source, key in ((f"/proc/{p}/smaps_rollup", "Pss:"), (f"/proc/{p}/status", "VmRSS:")):
            try:
                lines = Path(source).read_text().splitlines()
            except OSError:
                continue
            found = [int(line.split()[1]) for line in lines if line.startswith(key)]
            if found:
                total_kib += found[0]
                break
    return total_kib / 1024


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (for a server of a test or benchmark)."""
    return free_ports(1, host)[0]


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct such ports (all held at once while they are picked, so none repeats)."""
    import socket

    sockets = [socket.socket() for _ in range(n)]
    try:
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(host: str, port: int) -> bool:
    import socket

    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, port)) == 0
