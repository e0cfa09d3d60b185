"""Every setting of the simulator, from environment variables and flags, in one place.

Each setting has an environment variable (QUESTLINE_API_URL, QUESTLINE_ARTIFACTS_DIR,
else QUESTLINE_LOADGEN_*) and a flag; the flag wins. A bad value stops the run
with a message naming the variable or flag and what it expects.
"""

import argparse
import dataclasses
import os
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from questline_loadgen.credentials import MODES
from questline_settings import SettingsError, local_state_dir, parse_flag, parse_number

__all__ = ["Settings", "SettingsError", "default_artifacts_dir", "load", "new_run_id", "parser"]

_RUN_ID = re.compile(r"^[A-Za-z0-9]{1,24}$")


@dataclasses.dataclass(frozen=True)
class Settings:
    api_url: str
    players: int
    # Events per second over all players; 0 means as fast as the API answers.
    rate: float
    duration: float  # seconds of traffic
    concurrency: int  # players acting at the same time (one request in flight each)
    seed: int
    # Prefix of every player id, so one run's events can be told from another's.
    run_id: str
    request_timeout: float
    max_retries: int  # per request, for timeouts, connection errors, 429 and 5xx
    max_batch: int  # most events a mobile client buffers before it posts a batch
    # Send each player's own Host header, as the original's Apache Bench runs did.
    # Turn off when the API sits behind an ingress that routes by host.
    send_player_host: bool
    # Host header of every request when send_player_host is off: an ingress reached by address
    # (no DNS for its host name) still routes by this name. None: the URL's host.
    host_header: str | None
    ground_truth_path: Path
    progress: bool
    # How players get their tokens for /v1 (questline_loadgen.credentials): dev-login or none.
    auth: str

    def public(self) -> dict:
        """The settings as they go into the ground-truth file."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in dataclasses.asdict(self).items()}


def default_artifacts_dir(env: Mapping[str, str]) -> Path:
    raw = env.get("QUESTLINE_ARTIFACTS_DIR", "").strip()
    return Path(raw).expanduser() if raw else local_state_dir(env) / "artifacts"


def new_run_id() -> str:
    return "r" + time.strftime("%m%d%H%M%S", time.gmtime()) + secrets.token_hex(2)


@dataclasses.dataclass(frozen=True)
class _Option:
    flag: str
    env: str
    kind: type
    default: object
    minimum: float | None
    maximum: float | None
    unit: str
    help: str


_OPTIONS = (
    _Option("--api-url", "QUESTLINE_API_URL", str, "http://127.0.0.1:8000", None, None, "URL", "game API base URL"),
    _Option("--players", "QUESTLINE_LOADGEN_PLAYERS", int, 200, 1, 1_000_000, "players", "simulated players"),
    _Option("--rate", "QUESTLINE_LOADGEN_RATE", float, 200.0, 0, 1_000_000, "events/s", "events per second, 0 = max"),
    _Option("--duration", "QUESTLINE_LOADGEN_DURATION", float, 60.0, 0.1, 86_400, "seconds", "seconds of traffic"),
    _Option("--concurrency", "QUESTLINE_LOADGEN_CONCURRENCY", int, 32, 1, 4096, "players", "players acting at once"),
    _Option("--seed", "QUESTLINE_LOADGEN_SEED", int, 1, 0, 2**63, "", "random seed: same seed, same players"),
    _Option("--run-id", "QUESTLINE_LOADGEN_RUN_ID", str, None, None, None, "", "prefix of player ids (default: new)"),
    _Option("--request-timeout", "QUESTLINE_LOADGEN_REQUEST_TIMEOUT", float, 10.0, 0.1, 600, "seconds", "per try"),
    _Option("--max-retries", "QUESTLINE_LOADGEN_MAX_RETRIES", int, 6, 0, 100, "retries", "retries per request"),
    _Option("--max-batch", "QUESTLINE_LOADGEN_MAX_BATCH", int, 25, 1, 1000, "events", "largest mobile batch"),
    _Option("--send-player-host", "QUESTLINE_LOADGEN_SEND_PLAYER_HOST", bool, True, None, None, "", "Host per player"),
    _Option("--host-header", "QUESTLINE_LOADGEN_HOST_HEADER", str, None, None, None, "", "Host of every request"),
    _Option("--ground-truth", "QUESTLINE_LOADGEN_GROUND_TRUTH", Path, None, None, None, "", "ground-truth JSON path"),
    _Option("--progress", "QUESTLINE_LOADGEN_PROGRESS", bool, True, None, None, "", "show a progress bar"),
    _Option("--auth", "QUESTLINE_LOADGEN_AUTH", str, "dev-login", None, None, "", "player tokens: dev-login or none"),
)


def _convert(option: _Option, raw: str, source: str):
    if option.kind is bool:
        return parse_flag(source, raw)
    if option.kind in (int, float):
        return parse_number(source, raw.strip(), option.kind, low=option.minimum, high=option.maximum, unit=option.unit)
    return option.kind(raw)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="questline-loadgen",
        description="Simulate players over the questline game API and write what was sent and acknowledged.",
        epilog="Every flag also reads an environment variable, named in brackets; the flag wins.",
    )
    for option in _OPTIONS:
        if option.kind is bool:
            p.add_argument(
                option.flag, action=argparse.BooleanOptionalAction, default=None, help=f"{option.help} [{option.env}]"
            )
        else:
            p.add_argument(option.flag, default=None, help=f"{option.help} [{option.env}]")
    return p


def load(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None, **overrides) -> Settings:
    """Settings from flags (argv), else the environment, else defaults; overrides win over all."""
    env = os.environ if env is None else env
    args = vars(parser().parse_args(list(argv or [])))
    values = {}
    for option in _OPTIONS:
        name = option.flag.removeprefix("--").replace("-", "_")
        flag_value = args[name]
        if flag_value is not None:
            values[name] = flag_value if isinstance(flag_value, bool) else _convert(option, flag_value, option.flag)
        elif env.get(option.env, "").strip():
            values[name] = _convert(option, env[option.env], option.env)
        else:
            values[name] = option.default
    values.update(overrides)
    values["api_url"] = str(values["api_url"]).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", values["api_url"]):
        raise SettingsError(
            f"QUESTLINE_API_URL={values['api_url']!r} is not an http(s) URL (expected http://host:port)"
        )
    if values["host_header"] is not None:
        values["host_header"] = values["host_header"].strip()
        if values["send_player_host"]:
            raise SettingsError("QUESTLINE_LOADGEN_HOST_HEADER needs QUESTLINE_LOADGEN_SEND_PLAYER_HOST=false")
        if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", values["host_header"]):
            raise SettingsError(f"QUESTLINE_LOADGEN_HOST_HEADER={values['host_header']!r} is not a host name")
    if values["auth"] not in MODES:
        raise SettingsError(f"QUESTLINE_LOADGEN_AUTH={values['auth']!r} is not one of {', '.join(MODES)}")
    values["run_id"] = values["run_id"] or new_run_id()
    if not _RUN_ID.match(values["run_id"]):
        raise SettingsError(f"QUESTLINE_LOADGEN_RUN_ID={values['run_id']!r} must be 1-24 letters or digits")
    if values["ground_truth"] is None:
        values["ground_truth"] = default_artifacts_dir(env) / values["run_id"] / "ground-truth.json"
    values["ground_truth_path"] = Path(values.pop("ground_truth"))
    return Settings(**values)
