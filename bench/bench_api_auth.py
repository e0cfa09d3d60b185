"""The API benchmark with token verification on, beside the same scenarios without (not a test).

bench_api.py's servers, load client and scenarios; each round alternates the four runs, so
load from elsewhere on the machine hits all alike, and the median round is reported. With
auth, every request carries one service token (the cache of verified tokens answers after
the first request; a client sends the same token each time).

  .venv/bin/python bench/bench_api_auth.py [--rounds 3] [--duration 10] [--port 38020]
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import bench_api as bench

from questline_api.auth import Keyring, new_key

AUTH_ENV = ("QUESTLINE_API_AUTH", "QUESTLINE_API_AUTH_KEYS_DIR")


def with_token(script: Path, token: str) -> Path:
    script.write_text(script.read_text() + f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    return script


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--port", type=int, default=38020, help="first port of the servers (one per run)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: run `make bench-deps`", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="questline-bench-auth-"))
    new_key(workdir / "keys", "k1")
    token = Keyring.from_dir(workdir / "keys", None).sign("bench", "service", 86400)
    single = '{"item": "sword", "item_type": "katana", "strength": 5}'
    runs = [
        ("single, no auth", False, "/v1/players/bench-0/purchases",
         bench.lua(workdir / "s.lua", "POST", single, True), 1),
        ("single, token", True, "/v1/players/bench-0/purchases",
         with_token(bench.lua(workdir / "st.lua", "POST", single, True), token), 1),
        (f"batch {args.batch_size}, no auth", False, "/v1/events:batch",
         bench.lua(workdir / "b.lua", "POST", bench.batch_body(args.batch_size), False), args.batch_size),
        (f"batch {args.batch_size}, token", True, "/v1/events:batch",
         with_token(bench.lua(workdir / "bt.lua", "POST", bench.batch_body(args.batch_size), False), token),
         args.batch_size),
    ]  # fmt: skip
    bootstrap = bench.kafka_bootstrap()
    bench.create_topic(bootstrap)
    results: dict[str, list[tuple[float, float, float, int]]] = {}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    try:
        for round_ in range(args.rounds):
            for i, (name, auth, path, script, _events) in enumerate(runs):
                for var in AUTH_ENV:
                    os.environ.pop(var, None)
                if auth:
                    os.environ |= {"QUESTLINE_API_AUTH": "true", "QUESTLINE_API_AUTH_KEYS_DIR": str(workdir / "keys")}
                server = bench.Server(None, bootstrap, args.port + 4 * round_ + i, workdir)
                try:
                    server.wait("/readyz")
                    connections = args.connections if "single" in name else 4
                    bench.wrk(server.url + path, script, args.warmup, connections)
                    measured = bench.wrk(server.url + path, script, args.duration, connections)
                finally:
                    server.stop()
                results.setdefault(name, []).append(measured)
                print(f"round {round_ + 1}: {name:22} {measured[0]:8.0f} req/s p99 {measured[2]:.1f} ms", flush=True)
    finally:
        bench.delete_topic(bootstrap)
        shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"\nmedian of {args.rounds} round(s):\n"
        f"{'run':22} {'req/s':>8} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'failed':>6}"
    )
    for name, _auth, _path, _script, events in runs:
        rps, p50, p99, failed = sorted(results[name])[len(results[name]) // 2]
        print(f"{name:22} {rps:8.0f} {rps * events:9.0f} {p50:7.2f} {p99:7.2f} {failed:6d}")
    print(f"load average at end: {os.getloadavg()[0]:.1f} (other work on the machine skews every number)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
