"""Benchmark of the game API against the local stack's Kafka (not a test).

In one invocation, with the same gunicorn configuration (questline_api.gunicorn_conf)
and the same load client (wrk), it measures:
  baseline  a bare Flask "hello" endpoint: the ceiling of the HTTP stack
  single    POST /v1/players/{id}/purchases: one event per request, 2xx after Kafka's ack
  batch     POST /v1/events:batch with --batch-size events per request
  original  GET /purchase_a_sword of the original-style game (bench_original_game.py:
            Flask + kafka-python, `send` without waiting for the broker)
  legacy    the same GET on our API, which answers only after Kafka acknowledged
and prints req/s, events/s, p50/p99 latency, the ratio to the hello baseline and
legacy/original, plus the records Kafka appended per scenario, as a check that
every 2xx was an event.

  .venv/bin/python bench/bench_api.py [--rounds 3] [--duration 10] [--connections 16] [--batch-size 500]

Targets (issues 3 and 21): single >= 60% of the baseline's req/s with p99 < 25 ms;
batch >= 50,000 events/s on 2 cores; legacy >= 1.0x the original. wrk comes from
Debian: `make bench-deps`. Writes its numbers as JSON to $QUESTLINE_BENCH_RESULT
when set (bench/run_all.py).
"""

import argparse
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from confluent_kafka.admin import AdminClient, NewTopic

from questline_settings import kafka as kafka_auth
from questline_stack import settings as stack_settings
from questline_stack.scratch import end_offsets

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# The legacy route both game apps serve: a purchase, the route old clients use most.
LEGACY_PATH = "/purchase_a_sword"


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    app: str | None  # a bench/ app under our gunicorn config; None: the game API itself
    path: str
    script: Path
    connections: int
    events_per_request: int


@dataclasses.dataclass
class Result:
    name: str
    requests_per_s: float
    events_per_request: int
    p50_ms: float
    p99_ms: float
    failed: int  # non-2xx answers and socket errors
    # CPU per request of the app's gunicorn processes and of the Kafka broker: unlike req/s it
    # barely moves with other load on the machine, so it compares apps on a busy machine too.
    server_cpu_ms: float
    broker_cpu_ms: float

    @property
    def events_per_s(self) -> float:
        return self.requests_per_s * self.events_per_request


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its threads so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def workers_of(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def kafka_pid() -> int | None:
    """The local stack's broker, if this machine's stack runs one."""
    from questline_devkit.process import running_pid

    return running_pid(stack_settings.load(), "kafka")


def kafka_bootstrap() -> str:
    """Kafka's address; also puts the stack's Kafka admin into os.environ (QUESTLINE_KAFKA_USERNAME/
    _PASSWORD), which the topic helpers and the benchmarked servers use: the benchmark's topic is
    its own, outside the API user's ACLs, and the user does not change what a request costs."""
    subprocess.run([BIN / "questline-stack", "up", "kafka"], check=True)
    out = subprocess.run([BIN / "questline-stack", "env"], check=True, capture_output=True, text=True).stdout
    for name in (kafka_auth.USERNAME, kafka_auth.PASSWORD):
        if found := re.search(rf"{name}=(\S+)", out):
            os.environ[name] = found.group(1)
    return re.search(r"KAFKA_BOOTSTRAP_SERVERS=(\S+)", out).group(1)


def _kafka(bootstrap: str, **extra) -> dict:
    return kafka_auth.client_config(bootstrap, kafka_auth.kafka_credentials(), **extra)


# The benchmark's events go to a topic of its own (QUESTLINE_EVENTS_TOPIC), deleted
# afterwards: hundreds of thousands of records on the shared `events` topic would
# be a backlog for the next streaming job and land in the shared tables.
BENCH_TOPIC = f"bench-api-{os.getpid()}"


def create_topic(bootstrap: str) -> None:
    admin = AdminClient(_kafka(bootstrap))
    for future in admin.create_topics([NewTopic(BENCH_TOPIC, num_partitions=4, replication_factor=1)]).values():
        future.result(30)


def delete_topic(bootstrap: str) -> None:
    admin = AdminClient(_kafka(bootstrap))  # must outlive its futures
    for future in admin.delete_topics([BENCH_TOPIC]).values():
        future.result(30)


def topic_end(bootstrap: str) -> int:
    return sum(end_offsets(stack_settings.load(), BENCH_TOPIC).values())


class Server:
    def __init__(self, app: str | None, bootstrap: str, port: int, workdir: Path):
        self.url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "QUESTLINE_API_BIND": f"127.0.0.1:{port}",
            "QUESTLINE_EVENTS_TOPIC": BENCH_TOPIC,
        }
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        command = [str(BIN / "gunicorn"), "-c", "python:questline_api.gunicorn_conf"]
        if app:  # the same config, another app: command-line arguments override the file
            command += ["--pythonpath", str(HERE), app]
        self.log = workdir / f"gunicorn-{port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + path, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server not ready; log:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)


def wrk(url: str, script: Path, duration: int, connections: int) -> tuple[float, float, float, int]:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def percentile(p: str) -> float:
        value, unit = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return rps, percentile("50"), percentile("99"), failed


def lua(path: Path, method: str, body: str | None, players: bool) -> Path:
    lines = [f'wrk.method = "{method}"']
    if body is not None:
        lines += [f"wrk.body = {json.dumps(body)}", 'wrk.headers["Content-Type"] = "application/json"']
    if players:  # spread the Kafka keys over 1000 players, i.e. over all partitions
        lines += [
            "request = function()",
            '  return wrk.format(nil, "/v1/players/bench-" .. math.random(1, 1000) .. "/purchases")',
            "end",
        ]
    path.write_text("\n".join(lines) + "\n")
    return path


def batch_body(size: int) -> str:
    events = [
        {
            "event_type": "purchase_sword",
            "player_id": f"bench-{i % 1000}",
            "client_time": "2026-11-27T10:00:00Z",
            "payload": {"item": "sword", "item_type": "katana", "strength": i % 1000, "price": 100},
        }
        for i in range(size)
    ]
    return json.dumps({"events": events})


def run_rounds(args, bootstrap: str, workdir: Path, scenarios: list[Scenario]):
    """Rounds alternate the scenarios so that load from elsewhere on the machine hits
    all of them alike; each scenario later reports its median round. Also returns, per
    scenario, the records Kafka appended from its start until its server had stopped."""
    runs: dict[str, list[Result]] = {}
    appended: dict[str, int] = {}
    for round_ in range(args.rounds):
        for port, s in enumerate(scenarios, start=args.port):
            server = Server(s.app, bootstrap, port, workdir)
            before = topic_end(bootstrap) if s.events_per_request else 0
            try:
                server.wait("/hello" if s.app else "/readyz")
                if args.warmup:
                    wrk(server.url + s.path, s.script, args.warmup, s.connections)
                processes = [server.process.pid, *workers_of(server.process.pid)]
                broker = kafka_pid()
                cpu_before = sum(map(cpu_seconds, processes)), cpu_seconds(broker) if broker else 0.0
                rps, p50, p99, failed = wrk(server.url + s.path, s.script, args.duration, s.connections)
                cpu_after = sum(map(cpu_seconds, processes)), cpu_seconds(broker) if broker else 0.0
            finally:
                server.stop()
            if s.events_per_request:
                appended[s.name] = appended.get(s.name, 0) + topic_end(bootstrap) - before
            requests = max(1.0, rps * args.duration)
            server_ms, broker_ms = (
                (after - before) * 1000 / requests for before, after in zip(cpu_before, cpu_after, strict=True)
            )
            result = Result(s.name, rps, s.events_per_request, p50, p99, failed, server_ms, broker_ms)
            runs.setdefault(s.name, []).append(result)
            print(
                f"round {round_ + 1}: {s.name:20} {rps:9.0f} req/s  p50 {p50:.2f} ms  p99 {p99:.2f} ms"
                f"  CPU/request: app {server_ms:.3f} ms, broker {broker_ms:.3f} ms",
                flush=True,
            )
    return runs, appended


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per scenario (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the median is reported (default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before each measurement")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--batch-connections", type=int, default=4, help="concurrent batch clients (default 4)")
    parser.add_argument("--batch-size", type=int, default=500, help="events per batch request (default 500)")
    parser.add_argument("--port", type=int, default=18400, help="first HTTP port; one per scenario (default 18400)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk (the load client) is not installed: run `make bench-deps` (Debian package wrk)", file=sys.stderr)
        return 2

    bootstrap = kafka_bootstrap()
    workdir = Path(tempfile.mkdtemp(prefix="questline-bench-"))
    single = lua(workdir / "single.lua", "POST", '{"item": "sword", "item_type": "katana", "strength": 5}', True)
    batch = lua(workdir / "batch.lua", "POST", batch_body(args.batch_size), False)
    hello = lua(workdir / "hello.lua", "GET", None, False)
    cpus = os.cpu_count()
    print(f"machine: {cpus} cores, load average {os.getloadavg()[0]:.1f} at start; wrk -t1, {args.duration}s per run")

    legacy_get = lua(workdir / "legacy.lua", "GET", None, False)
    scenarios = [
        Scenario("baseline (hello)", "bench_hello:app", "/hello", hello, args.connections, 0),
        Scenario("single event", None, "/v1/players/bench-0/purchases", single, args.connections, 1),
        Scenario(
            f"batch of {args.batch_size}", None, "/v1/events:batch", batch, args.batch_connections, args.batch_size
        ),
        Scenario("original GET", "bench_original_game:create_app()", LEGACY_PATH, legacy_get, args.connections, 1),
        Scenario("legacy GET", None, LEGACY_PATH, legacy_get, args.connections, 1),
    ]
    create_topic(bootstrap)
    try:
        runs, appended = run_rounds(args, bootstrap, workdir, scenarios)
    finally:
        delete_topic(bootstrap)
    results = {name: sorted(rs, key=lambda r: r.requests_per_s)[len(rs) // 2] for name, rs in runs.items()}
    hello_r, single_r, batch_r, original_r, legacy_r = (results[s.name] for s in scenarios)

    base = hello_r.requests_per_s
    print(f"\nmedian of {args.rounds} round(s) per scenario:")
    print(
        f"\n{'scenario':20} {'req/s':>9} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'vs hello':>9}"
        f" {'failed':>7} {'appended':>9} {'2xx x events':>12} {'app CPU':>8} {'broker CPU':>10}"
    )
    for name, r in results.items():
        accepted = sum(x.events_per_s * args.duration for x in runs[name])
        print(
            f"{r.name:20} {r.requests_per_s:9.0f} {r.events_per_s if r.events_per_request else float('nan'):10.0f}"
            f" {r.p50_ms:8.2f} {r.p99_ms:8.2f} {r.requests_per_s / base:8.0%} {r.failed:7d}"
            f" {appended.get(name, 0):9d} {accepted:12.0f} {r.server_cpu_ms:8.3f} {r.broker_cpu_ms:10.3f}"
        )
    print("(appended: records Kafka holds from all rounds incl. warm-up; 2xx x events: of the measured runs;")
    print(" CPU: ms of CPU per request in the app's gunicorn processes and in the Kafka broker)")
    single_ratio = single_r.requests_per_s / base
    legacy_ratio = legacy_r.requests_per_s / original_r.requests_per_s
    ok_single = single_ratio >= 0.6 and single_r.p99_ms < 25
    ok_batch = batch_r.events_per_s >= 50_000
    ok_legacy = legacy_ratio >= 1.0
    print(
        f"\ntarget single >= 60% of baseline req/s and p99 < 25 ms: {'met' if ok_single else 'NOT met'}"
        f" ({single_ratio:.0%}, p99 {single_r.p99_ms:.1f} ms)"
    )
    print(f"target batch >= 50,000 events/s: {'met' if ok_batch else 'NOT met'} ({batch_r.events_per_s:,.0f})")
    print(f"target legacy GET >= 1.0x the original: {'met' if ok_legacy else 'NOT met'} ({legacy_ratio:.2f}x)")
    cpu_ratio = legacy_r.server_cpu_ms / original_r.server_cpu_ms if original_r.server_cpu_ms else float("nan")
    print(f"legacy GET app CPU per request vs the original's: {cpu_ratio:.2f}x (below 1: ours costs less)")
    print(f"load average at end: {os.getloadavg()[0]:.1f} (other work on the machine skews every number)")
    result_file = os.environ.get("QUESTLINE_BENCH_RESULT")
    if result_file:
        numbers = {r.name: dataclasses.asdict(r) for r in results.values()}
        numbers["ratios"] = {"single_vs_hello": round(single_ratio, 3), "legacy_vs_original": round(legacy_ratio, 3)}
        numbers["ratios"]["legacy_vs_original_cpu_per_request"] = round(cpu_ratio, 3)
        numbers["batch_events_per_s"] = round(batch_r.events_per_s)
        Path(result_file).write_text(json.dumps(numbers))
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
