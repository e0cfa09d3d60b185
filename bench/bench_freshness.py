"""Freshness: time from an HTTP POST to the game API until the event's row is visible in Trino.

Runs the streaming job (a database, checkpoint and HDFS directory of its own, removed at
the end; starting at the latest offset of the API's topic) and sends N probes one after another: each POSTs a
purchase, takes the event_id from the answer, and polls Trino every 100 ms until
`events` holds that event_id. Prints p50/p95/max against the targets (p50 <= 5 s,
p95 <= 10 s) and, as the baseline measured in the same run, the trigger interval
(a row cannot be visible sooner than one trigger on average).

The API: QUESTLINE_API_URL if set (the job then reads its topic, QUESTLINE_EVENTS_TOPIC),
otherwise gunicorn with the questline_api package is started here against
KAFKA_BOOTSTRAP_SERVERS, on a topic of this run only (never the user's `events`). Needs the stack up and
`eval "$(questline-stack env)"`. Usage: python bench/bench_freshness.py [--probes N]
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
import trino

from questline_devkit.process import free_port
from questline_events import TOPIC_EVENTS, TRINO_CATALOG
from questline_stack import settings as stack_settings
from questline_stack.scratch import Scratch

BIN = Path(sys.executable).parent


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def _api_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def start_api(logs: Path, topic: str) -> tuple[str, subprocess.Popen | None]:
    port = free_port()
    env = {
        **os.environ,
        "QUESTLINE_API_BIND": f"127.0.0.1:{port}",
        "QUESTLINE_API_WORKERS": "2",
        "QUESTLINE_EVENTS_TOPIC": topic,
    }
    process = subprocess.Popen(
        [BIN / "gunicorn", "-c", "python:questline_api.gunicorn_conf"],
        env=env,
        stdout=open(logs / "api.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(lambda: _api_ready(url), 120, "the game API")
    return url, process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--probes", type=int, default=100)
    parser.add_argument("--trigger-seconds", type=float, default=1.0)
    args = parser.parse_args()
    with Scratch(stack_settings.load(), "fresh") as scratch:
        measure(args, scratch)


def measure(args, scratch: Scratch) -> None:
    run = scratch.database.rsplit("_", 1)[-1]
    logs = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-freshness-{run}"
    logs.mkdir(parents=True)
    database = scratch.database
    job_env = {
        **os.environ,
        **scratch.env,
        "QUESTLINE_STREAM_STARTING_OFFSETS": "latest",
        "QUESTLINE_STREAM_TRIGGER_SECONDS": str(args.trigger_seconds),
    }
    if url := os.environ.get("QUESTLINE_API_URL"):
        url, api = url.rstrip("/"), None
        job_env["QUESTLINE_EVENTS_TOPIC"] = os.environ.get("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS)
    else:
        url, api = start_api(logs, scratch.topic)
    stream = subprocess.Popen(
        [BIN / "stream-events-to-hdfs"],
        env=job_env,
        stdout=open(logs / "stream.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    conn = stack_settings.load().trino_connect("analyst", catalog=TRINO_CATALOG, schema=database)
    cursor = conn.cursor()

    def visible(event_id: str) -> bool:
        try:
            cursor.execute("SELECT count(*) FROM events WHERE event_id = ?", (event_id,))
            return cursor.fetchall()[0][0] == 1
        except trino.exceptions.TrinoUserError:
            return False  # the job has not created its tables yet

    def post() -> str:
        answer = httpx.post(
            f"{url}/v1/players/bench-{run}/purchases", json={"item": "sword", "strength": 5}, timeout=10
        )
        answer.raise_for_status()
        return answer.json()["event_id"]

    try:
        # Warm-up: the job is up and its first (new-partition) batch is done.
        # A new checkpoint starts at the latest offset, known only once the query runs:
        # post a warm-up event every few seconds until one arrives.
        warmup: list[str] = []

        def warmed_up() -> bool:
            if not warmup or time.monotonic() - warmup_sent[0] > 5:
                warmup.append(post())
                warmup_sent[0] = time.monotonic()
            return any(visible(event_id) for event_id in warmup[-3:]) or stream.poll() is not None

        warmup_sent = [0.0]
        _wait(warmed_up, 600, "the streaming job's first row")
        if stream.poll() is not None:
            raise SystemExit(f"the streaming job exited; see {logs}/stream.log")
        delays = []
        for _ in range(args.probes):
            sent = time.monotonic()
            event_id = post()
            while not visible(event_id):
                if time.monotonic() - sent > 120:
                    raise SystemExit(f"event {event_id} not visible after 120 s")
                time.sleep(0.1)
            delays.append(time.monotonic() - sent)
            print(f"probe {len(delays)}: {delays[-1]:.2f}s", flush=True)
        q = statistics.quantiles(delays, n=100)
        print(f"probes {len(delays)}, trigger {args.trigger_seconds}s (baseline: a row waits ~1 trigger)")
        print(
            f"freshness p50 {q[49]:.2f}s  p95 {q[94]:.2f}s  max {max(delays):.2f}s  (targets p50 <= 5 s, p95 <= 10 s)"
        )
        print(f"ratio p50 / trigger interval: {q[49] / args.trigger_seconds:.2f}")
    finally:
        for process in (stream, api):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(60)


if __name__ == "__main__":
    main()
