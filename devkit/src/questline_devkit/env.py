"""Environment readers and the state-dir layout shared by every questline dev tool."""

import os
from pathlib import Path


class SettingsError(ValueError):
    pass


# Readers of one environment variable each: the error names the variable and what it expects.


def env_int(name: str, default: int, *, low: int, high: int, expected: str) -> int:
    raw = os.environ.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number (expected {expected})") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={raw!r} is out of range (expected {expected})")
    return value


def env_port(name: str, default: int) -> int:
    raw = os.environ.get(name, str(default))
    if not raw.strip().isdigit():
        raise SettingsError(f"{name}={raw!r} is not a port number (expected 1-65535)")
    return env_int(name, default, low=1, high=65535, expected="1-65535")


def env_path(name: str, default: Path) -> Path:
    raw = os.environ.get(name)
    return Path(raw).expanduser().resolve() if raw else default


class StateDirLayout:
    """Where questline_devkit.process keeps pid files and logs under a `state_dir`;
    any settings class with a state_dir (the stack's, the local control plane's)
    mixes it in to use spawn/wait_until/stop."""

    state_dir: Path

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def run_dir(self) -> Path:
        return self.state_dir / "run"
