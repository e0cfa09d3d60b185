"""Where a request's time goes: py-spy samples the game API's workers under wrk load (not a test).

Starts the API (or a bench/ app) under our gunicorn config against the local stack's
Kafka, loads one route with wrk, and meanwhile records every worker with py-spy
(`--gil`: only the thread holding the GIL is sampled, which is what limits a
worker). Prints the functions with the most samples, by own time and including
callees, and keeps the raw stacks (flamegraph.pl or speedscope read them).

  .venv/bin/python bench/profile_api.py [--scenario single|batch|legacy|original] [--duration 10]
"""

import argparse
import collections
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_api import (
    BENCH_TOPIC,
    LEGACY_PATH,
    Server,
    batch_body,
    cpu_seconds,
    create_topic,
    delete_topic,
    kafka_bootstrap,
    kafka_pid,
    lua,
    workers_of,
    wrk,
)

BIN = Path(sys.executable).parent


def _frame(text: str) -> str:
    """`function (path/to/file.py:12)` -> `function (file.py)`: samples of one function add up."""
    name, _, where = text.partition(" (")
    return f"{name} ({where.split(':')[0].rsplit('/', 1)[-1].rstrip(')')})"


def summarise(raw_files: list[Path], top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for path in raw_files:
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [_frame(f) for f in stack.split(";")][1:]  # the first names the thread
            total += n
            if frames:
                own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    print(f"{total} samples with the GIL held")
    for title, counter in (("own time", own), ("including callees", inclusive)):
        print(f"\ntop {top} by {title}:")
        for frame, n in counter.most_common(top):
            print(f"  {n / total:6.1%}  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=("single", "batch", "legacy", "original"), default="single")
    parser.add_argument("--duration", type=int, default=10, help="seconds of sampling under load")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=18450)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", type=Path, default=None, help="directory for the raw stacks (default: a temp dir)")
    args = parser.parse_args()

    bootstrap = kafka_bootstrap()
    out = args.out or Path(tempfile.mkdtemp(prefix="questline-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    body = '{"item": "sword", "item_type": "katana", "strength": 5}'
    app, path, script, connections = {
        "single": (None, "/v1/players/bench-0/purchases", lua(out / "s.lua", "POST", body, True), args.connections),
        "batch": (None, "/v1/events:batch", lua(out / "b.lua", "POST", batch_body(500), False), 4),
        "legacy": (None, LEGACY_PATH, lua(out / "l.lua", "GET", None, False), args.connections),
        "original": (
            "bench_original_game:create_app()",
            LEGACY_PATH,
            lua(out / "o.lua", "GET", None, False),
            args.connections,
        ),
    }[args.scenario]
    create_topic(bootstrap)
    server = Server(app, bootstrap, args.port, out)
    try:
        server.wait("/hello" if app else "/readyz")
        wrk(server.url + path, script, 2, connections)  # warm-up
        load = subprocess.Popen(
            ["wrk", "-t1", f"-c{connections}", f"-d{args.duration + 2}s", "-s", str(script), server.url + path],
            stdout=subprocess.PIPE,
            text=True,
        )
        workers = workers_of(server.process.pid)
        watched = {f"worker {pid}": pid for pid in workers} | {"wrk": load.pid}
        broker = kafka_pid()
        if broker:
            watched["kafka broker"] = broker
        cpu_before, started = {name: cpu_seconds(pid) for name, pid in watched.items()}, time.monotonic()
        spies = []
        for pid in workers:
            raw = out / f"{args.scenario}-{pid}.txt"
            command = [str(BIN / "py-spy"), "record", "--pid", str(pid), "--duration", str(args.duration)]
            command += ["--rate", "250", "--gil", "--nonblocking", "--format", "raw", "--output", str(raw)]
            spies.append((raw, subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)))
        for _raw, spy in spies:
            spy.wait()
        elapsed = time.monotonic() - started
        cpu = {name: (cpu_seconds(pid) - cpu_before[name]) / elapsed for name, pid in watched.items()}
        print(load.communicate()[0])
    finally:
        server.stop()
        delete_topic(bootstrap)
    print(f"scenario {args.scenario}, topic {BENCH_TOPIC}, raw stacks in {out}")
    print("CPU while sampled (cores; py-spy itself not counted): " + ", ".join(f"{n} {c:.2f}" for n, c in cpu.items()))
    summarise([raw for raw, _ in spies if raw.exists()], args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
