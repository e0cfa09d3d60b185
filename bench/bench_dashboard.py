"""Benchmark of the /dashboard data endpoint: what a room of browsers costs Trino (not a test).

In one invocation, against the local stack's Trino and the tables of QUESTLINE_DATABASE
(default `questline`):
  baseline  one dashboard refresh straight from Trino, uncached, as every poll would
            cost without the cache (the same code: questline_api.web.dashboard.collect)
  served    the API under gunicorn (2 workers, cache 5 s) polled by --browsers clients,
            each every --poll seconds for --duration seconds
and prints the answer latency of both, the ratio, and how many queries Trino ran for
the dashboard during the served phase against how many an uncached dashboard would
have needed (4 per poll; counted in Trino's system.runtime.queries).

  .venv/bin/python bench/bench_dashboard.py [--browsers 20] [--poll 1] [--duration 20]

Writes its numbers as JSON to $QUESTLINE_BENCH_RESULT when set (bench/run_all.py).
"""

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "services" / "game-api" / "tests"))
from api_stack import Gunicorn  # noqa: E402

from questline_api.settings import load  # noqa: E402
from questline_api.web.dashboard import collect, connect, utc_now  # noqa: E402
from questline_stack import settings as stack_settings  # noqa: E402

BIN = Path(sys.executable).parent
QUERIES_PER_REFRESH = 4
DASHBOARD_USER = "dashboard"


def stack_env() -> dict[str, str]:
    subprocess.run([BIN / "questline-stack", "up"], check=True, capture_output=True)
    printed = subprocess.run(
        [BIN / "questline-stack", "env", "--trino-user", DASHBOARD_USER], check=True, capture_output=True, text=True
    ).stdout
    return dict(line.removeprefix("export ").split("=", 1) for line in printed.splitlines() if "=" in line)


def dashboard_queries_since(since: dt.datetime) -> int:
    # Another user, so that this query is not counted among the dashboard's.
    cursor = stack_settings.load().trino_connect("analyst").cursor()
    cursor.execute(
        'SELECT count(*) FROM system.runtime.queries WHERE "user" = ? AND created >= ?',
        [DASHBOARD_USER, since.replace(tzinfo=None)],
    )
    return cursor.fetchone()[0]


def baseline(settings, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        snapshot = collect(connect(settings), settings.trino_catalog, settings.database, utc_now())
        seconds.append(time.perf_counter() - started)
    print(f"baseline: status {snapshot.status}, {snapshot.tables.get('events', {}).get('rows')} events")
    return seconds


def browser(url: str, poll: float, until: float) -> list[float]:
    latencies = []
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            client.get(url).raise_for_status()
            latencies.append(time.perf_counter() - started)
            time.sleep(max(0.0, poll - (time.perf_counter() - started)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--browsers", type=int, default=20)
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between one browser's polls")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="uncached refreshes for the baseline")
    args = parser.parse_args()

    env = stack_env()
    os.environ.update(env)
    settings = load()
    base = baseline(settings, args.rounds)

    with tempfile.TemporaryDirectory() as tmp:
        server = Gunicorn(
            env["KAFKA_BOOTSTRAP_SERVERS"],
            Path(tmp) / "gunicorn.log",
            workers=2,
            **{k: v for k, v in env.items() if k.startswith("QUESTLINE_TRINO_")},
            QUESTLINE_API_DASHBOARD_CACHE_SECONDS="5",
        ).start()
        try:
            since = utc_now()
            until = time.monotonic() + args.duration
            url = f"{server.url}/dashboard/data.json"
            with concurrent.futures.ThreadPoolExecutor(args.browsers) as pool:
                runs = list(pool.map(lambda _: browser(url, args.poll, until), range(args.browsers)))
            # Trino lists a query once it is created; a refresh in flight at the end is counted too.
            trino_queries = dashboard_queries_since(since)
        finally:
            server.stop()

    served = [s for run in runs for s in run]
    base_ms, served_ms = statistics.median(base) * 1000, statistics.median(served) * 1000
    uncached_queries = len(served) * QUERIES_PER_REFRESH
    print(f"baseline  uncached refresh: p50 {base_ms:8.1f} ms over {len(base)} refreshes")
    print(f"served    data.json:        p50 {served_ms:8.1f} ms over {len(served)} polls by {args.browsers} browsers")
    print(f"latency ratio served/baseline: {served_ms / base_ms:.3f}")
    print(
        f"Trino queries for the dashboard: {trino_queries} (uncached: {uncached_queries}); "
        f"ratio {trino_queries / uncached_queries:.4f}"
    )
    result_file = os.environ.get("QUESTLINE_BENCH_RESULT")
    if result_file:
        numbers = {
            "uncached_refresh_p50_ms": round(base_ms, 1),
            "served_p50_ms": round(served_ms, 1),
            "polls": len(served),
            "browsers": args.browsers,
            "trino_queries": trino_queries,
            "uncached_trino_queries": uncached_queries,
        }
        Path(result_file).write_text(json.dumps(numbers))


if __name__ == "__main__":
    main()
