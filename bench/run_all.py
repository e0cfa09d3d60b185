"""Run every benchmark script in bench/ and write one results file (not a test).

  .venv/bin/python bench/run_all.py [--only api,freshness] [--timeout 1800]

Every `bench_*.py` with a `__main__` block runs in turn (helpers such as the
baseline app of bench_api.py have none). Each gets the environment variable
QUESTLINE_BENCH_RESULT naming a JSON file it may write its numbers to; its
output is kept too. The results go to bench/results/<UTC time>.json plus a
Markdown summary beside it, and latest.json/latest.md point at the newest, so
numbers can be compared between versions (`git rev-parse HEAD` is recorded).
"""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# Lines of a script's output kept in the results when it writes no JSON of its own.
OUTPUT_LINES = 40


def scripts(only: set[str] | None) -> list[Path]:
    found = []
    for path in sorted(HERE.glob("bench_*.py")):
        name = path.stem.removeprefix("bench_")
        if only and name not in only:
            continue
        if 'if __name__ == "__main__":' in path.read_text():
            found.append(path)
    return found


def run_one(path: Path, timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="questline-bench-") as tmp:
        result_file = Path(tmp) / "result.json"
        env = {**os.environ, "QUESTLINE_BENCH_RESULT": str(result_file)}
        started = time.monotonic()
        print(f"[bench] {path.name} ...", flush=True)
        try:
            proc = subprocess.run(
                [sys.executable, str(path)], env=env, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent
            )
            status, output = ("ok" if proc.returncode == 0 else f"exit {proc.returncode}"), proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            status, output = f"timeout after {timeout:.0f}s", (exc.stdout or b"").decode(errors="replace")
        seconds = round(time.monotonic() - started, 1)
        numbers = json.loads(result_file.read_text()) if result_file.exists() else None
    print(f"[bench] {path.name}: {status} in {seconds}s", flush=True)
    tail = output.strip().splitlines()[-OUTPUT_LINES:]
    return {"script": path.name, "status": status, "seconds": seconds, "numbers": numbers, "output": tail}


def git_revision() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def markdown(document: dict) -> str:
    machine = document["machine"]
    lines = [
        f"# questline benchmarks, {document['started_at']}",
        "",
        f"revision `{document['revision']}`, {machine['cpus']} CPUs, Python {machine['python']}",
        "",
        "| script | status | seconds |",
        "|---|---|---:|",
    ]
    lines += [f"| {r['script']} | {r['status']} | {r['seconds']} |" for r in document["results"]]
    for r in document["results"]:
        lines += ["", f"## {r['script']}", ""]
        if r["numbers"] is not None:
            lines += ["```json", json.dumps(r["numbers"], indent=1), "```"]
        else:
            lines += ["```", *r["output"][-15:], "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated names, e.g. api,freshness (bench_<name>.py)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    started = dt.datetime.now(dt.UTC)
    document = {
        "started_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision": git_revision(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "results": [run_one(path, args.timeout) for path in scripts(only)],
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    json_path = RESULTS / f"{stamp}.json"
    json_path.write_text(json.dumps(document, indent=1) + "\n")
    (RESULTS / f"{stamp}.md").write_text(markdown(document))
    (RESULTS / "latest.json").write_text(json_path.read_text())
    (RESULTS / "latest.md").write_text(markdown(document))
    print(f"[bench] results: {json_path} (summary {RESULTS / f'{stamp}.md'})")
    return 0 if all(r["status"] == "ok" for r in document["results"]) else 1


if __name__ == "__main__":
    sys.exit(main())
