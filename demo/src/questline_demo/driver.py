"""The main job (`make demo`): the whole pipeline on the local stack, proven by counting.

1. start the local stack (idempotent), 2. create the tables, 3. start the game
API (gunicorn) and 4. the streaming job as background processes of the stack
(pids and logs in its state dir; left running for you to explore), 5. probe the
pipeline with one event until Trino sees it, 6. run the player simulator,
7. wait until the tables hold the run, 8. print the report and write the HTML,
9. account for every acknowledged event: exactly once, or exit non-zero.
Each run has its own run id in every player id, so running it again only
counts the new run.
"""

import dataclasses
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console

from questline_analytics import accounting, queries, report
from questline_analytics import settings as analytics_settings
from questline_devkit import process
from questline_events import DATABASE, TRINO_PIPELINE_USER
from questline_loadgen import run_and_summarise
from questline_loadgen import settings as loadgen_settings
from questline_loadgen.credentials import LOGIN_PATH
from questline_settings import SettingsError
from questline_stack import settings as stack_settings

API = "api"
STREAM = "stream-events-to-hdfs"


def demo_processes(database: str) -> tuple[str, str]:
    """The names of the API and the streaming job the demo starts beside the stack (`questline-demo
    --stop` stops them). A demo over another database than `questline` (QUESTLINE_DATABASE, as the
    tests run it) has processes of its own: it never reuses, nor is reused by, the user's demo."""
    if database == DATABASE:
        return API, STREAM
    return f"{API}-{database}", f"{STREAM}-{database}"


class DemoFailed(RuntimeError):
    pass


@dataclasses.dataclass
class Step:
    console: Console
    number: int = 0
    total: int = 8
    started: float = dataclasses.field(default_factory=time.monotonic)

    def __call__(self, text: str) -> None:
        self.number += 1
        elapsed = time.monotonic() - self.started
        self.console.rule(f"[bold]step {self.number}/{self.total}[/]: {text}  [dim](+{elapsed:.0f}s)", align="left")


def console_script(name: str) -> str:
    """A console script of this virtualenv (the one running the demo)."""
    return str(Path(sys.executable).parent / name)


def run_checked(argv: Sequence[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(list(argv), env={**os.environ, **env})
    if result.returncode != 0:
        raise DemoFailed(f"{what} failed (exit {result.returncode}): {' '.join(argv)}")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


def api_auth_env(stack) -> dict[str, str]:
    """Auth on, as in kind: a signing key generated once in the stack's state dir, and the dev
    login through which the simulator's players and /play get their tokens (docs/security.md)."""
    keys = stack.state_dir / "api-auth" / "keys"
    run_checked([sys.executable, "-m", "questline_api.auth", "new-key", str(keys), "k1"], {}, "the API's signing key")
    return {
        "QUESTLINE_API_AUTH": "true",
        "QUESTLINE_API_AUTH_KEYS_DIR": str(keys),
        "QUESTLINE_API_AUTH_DEV_LOGIN": "true",
    }


def start_api(stack, console: Console, api_url: str, env: dict[str, str], name: str = API) -> None:
    if process.running_pid(stack, name) is not None:
        console.print(f"API already running (pid {process.running_pid(stack, name)}), {api_url}")
        return
    if _http_ok(f"{api_url}/readyz"):
        console.print(f"an API started elsewhere (e.g. `make api`) already answers at {api_url}; using it")
        return
    parts = urlsplit(api_url)
    # Each process logs in as its own user (docs/security.md): to Trino the dashboard only reads,
    # to Kafka the API may only write the events topic.
    api_env = {
        **stack.trino_env("dashboard"),
        **env,
        **stack.kafka_env(stack_settings.KAFKA_API),
        **api_auth_env(stack),
        "QUESTLINE_API_BIND": f"{parts.hostname}:{parts.port or 80}",
    }
    pid = process.spawn(
        stack, name, [console_script("gunicorn"), "-c", "python:questline_api.gunicorn_conf"], env=api_env
    )
    console.print(f"API started: pid {pid}, log {process.log_file(stack, name)}")
    process.wait_until(stack, name, lambda: _http_ok(f"{api_url}/readyz"), timeout=60, what="ready")


def start_stream(stack, console: Console, env: dict[str, str], name: str = STREAM) -> None:
    if process.running_pid(stack, name) is not None:
        console.print(f"streaming job already running (pid {process.running_pid(stack, name)})")
        return
    # Spark's own Kafka user (it may only read the events topic); the pipeline's Trino user.
    stream_env = {**stack.trino_env(TRINO_PIPELINE_USER), **env, **stack.kafka_env(stack_settings.KAFKA_SPARK)}
    pid = process.spawn(stack, name, [console_script(STREAM)], env=stream_env)
    console.print(f"streaming job started: pid {pid}, log {process.log_file(stack, name)}")


def dev_login_headers(api_url: str, player: str) -> dict[str, str]:
    """The Authorization header of `player`, logged in through the API's dev login (auth on, as the
    demo runs it); none from an API started elsewhere without the dev login (404)."""
    import httpx

    login = httpx.post(f"{api_url}{LOGIN_PATH}", json={"player_id": player}, timeout=30)
    return {"Authorization": f"Bearer {login.json()['access_token']}"} if login.status_code == 200 else {}


def probe_pipeline(stack, console: Console, conn, api_url: str, timeout: float, stream: str = STREAM) -> float:
    """Post one event and wait until Trino returns it: the pipeline is live end to end."""
    import httpx

    # A visit from a player of no run: it shows in no guild or purchase answer of the report.
    player = f"probe{uuid.uuid4().hex[:12]}"
    visit = {"event_type": "default", "player_id": player, "payload": {}}
    response = httpx.post(
        f"{api_url}/v1/events:batch", json={"events": [visit]}, headers=dev_login_headers(api_url, player), timeout=30
    )
    response.raise_for_status()
    event_id = response.json()["results"][0]["event_id"]
    started = time.monotonic()
    next_note = started + 15
    last_error = None
    while time.monotonic() - started < timeout:
        try:
            _, rows = queries.fetch(conn, "SELECT count(*) FROM events WHERE event_id = ?", [event_id])
            if rows[0][0] >= 1:
                return time.monotonic() - started
            last_error = None
        except Exception as exc:  # the tables may not be queryable for the first seconds
            last_error = exc
        if process.running_pid(stack, stream) is None:
            raise DemoFailed(
                f"the streaming job exited; see {process.log_file(stack, stream)}\n"
                + process.tail(process.log_file(stack, stream))
            )
        if time.monotonic() > next_note:
            waited = time.monotonic() - started
            console.print(f"  waiting for the probe event in Trino ({waited:.0f}s; a new job first reads the backlog)")
            next_note += 15
        time.sleep(1)
    raise DemoFailed(f"probe event {event_id} not visible in Trino after {timeout:.0f}s (last error: {last_error})")


def stop(console: Console) -> int:
    stack = stack_settings.load()
    api, stream = demo_processes(analytics_settings.load(os.environ).schema)
    for name in (stream, api):
        if not process.stop(stack, name):
            console.print(f"{name} was not running")
    return 0


def run_demo(simulator_argv: Sequence[str], console: Console) -> int:
    stack = stack_settings.load()
    step = Step(console)
    step("local stack: Kafka, HDFS, PostgreSQL, Hive metastore, Trino")
    run_checked([console_script("questline-stack"), "up"], {}, "questline-stack up")
    env = stack.client_env()
    os.environ.update(env)
    analytics = analytics_settings.load({**os.environ, **stack.trino_env("report")})
    sim = loadgen_settings.load(simulator_argv, os.environ)
    artifacts = sim.ground_truth_path.parent

    api, stream = demo_processes(analytics.schema)

    step(f"tables: database `{analytics.schema}` and its tables in the Hive metastore (idempotent)")
    run_checked([console_script("create-tables")], {**env, **stack.trino_env(TRINO_PIPELINE_USER)}, "create-tables")

    step(f"game API: gunicorn at {sim.api_url}")
    start_api(stack, console, sim.api_url, env, api)

    step("streaming job: the Kafka topic of events -> Parquet tables in HDFS")
    start_stream(stack, console, env, stream)
    conn = queries.connect(analytics)
    seconds = probe_pipeline(stack, console, conn, sim.api_url, analytics.catch_up_timeout, stream)
    console.print(f"probe event posted to the API was visible in Trino after {seconds:.1f}s: the pipeline is live")

    step(f"simulator: {sim.players:,} players, {sim.rate:g} events/s for {sim.duration:g}s (run {sim.run_id})")
    truth = run_and_summarise(sim, console)
    if truth.total_acknowledged == 0:
        raise DemoFailed("the API acknowledged no event; see the API log " + str(process.log_file(stack, api)))

    step("waiting until the tables hold every acknowledged event")
    document = truth.to_dict()

    def polled(result: accounting.Accounting, elapsed: float) -> None:
        console.print(f"  {elapsed:5.0f}s  {result.line()}")

    result = accounting.wait_until_caught_up(conn, document, analytics.catch_up_timeout, polled)

    step("KPI tables: compute-kpis for today and yesterday (sessions, active players, retention, revenue, funnel)")
    run_checked([console_script("compute-kpis")], {**env, **stack.trino_env(TRINO_PIPELINE_USER)}, "compute-kpis")

    step("report: the business questions over all data in the tables")
    results = queries.run_all(conn)
    report.print_report(results, console)
    notes = [f"run {sim.run_id}: {result.line()}", f"ground truth: {sim.ground_truth_path}"]
    html_path = report.write_html(results, artifacts, notes)
    console.print(f"HTML report: {html_path}")

    step("accounting: ground truth against the tables")
    console.print(f"[bold]{result.line()}[/]")
    if result.unknown_landed:
        console.print(f"({result.unknown_landed:,} event(s) of unknown outcome are in the tables, once each)")
    for url in (f"{sim.api_url}/play", f"{sim.api_url}/dashboard"):
        if _http_ok(url):
            console.print(f"open {url}")
    console.print(
        "the API and the streaming job keep running: `make demo-stop` stops them, `make stack-down` the stack"
    )
    if not result.ok:
        for problem in result.problems():
            console.print(f"[red]FAILED: {problem}")
        return 1
    console.print("[green bold]every acknowledged event is in the tables exactly once")
    return 0


def main(simulator_argv: Sequence[str]) -> int:
    console = Console()
    try:
        return run_demo(simulator_argv, console)
    except (DemoFailed, process.StartError, SettingsError) as exc:
        console.print(f"[red bold]demo FAILED:[/] {exc}")
        return 1
