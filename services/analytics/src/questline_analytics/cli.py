"""questline: the analytics CLI.

  questline report [--schema S] [--out DIR]   answer every business question, write report.html
  questline verify GROUND_TRUTH [--wait S]    check a simulator run against the tables

The main job that produces the data is questline-demo (`make demo`, package demo/).

Trino is reached at QUESTLINE_TRINO_URL (default http://127.0.0.1:8080).
"""

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from questline_analytics import accounting, queries, report
from questline_analytics import settings as settings_module
from questline_loadgen import ground_truth


def cmd_report(args, console: Console) -> int:
    settings = settings_module.load(schema=args.schema)
    conn = queries.connect(settings)
    results = queries.run_all(conn)
    report.print_report(results, console)
    out = Path(args.out) if args.out else settings.artifacts_dir / "report"
    notes = [f"Trino {settings.trino_url}, {settings.catalog}.{settings.schema}"]
    console.print(f"HTML report: {report.write_html(results, out, notes)}")
    return 0


def cmd_verify(args, console: Console) -> int:
    settings = settings_module.load()
    truth = ground_truth.load(Path(args.ground_truth))
    conn = queries.connect(settings)
    result = accounting.wait_until_caught_up(conn, truth, args.wait)
    console.print(result.line())
    for problem in result.problems():
        console.print(f"[red]FAILED: {problem}")
    return 0 if result.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    console = Console()
    parser = argparse.ArgumentParser(
        prog="questline", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("report", help="answer every business question; print and write report.html")
    p.add_argument("--schema", help="Trino schema of the tables [QUESTLINE_DATABASE, default questline]")
    p.add_argument("--out", help="directory for report.html [default $QUESTLINE_ARTIFACTS_DIR/report]")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("verify", help="check a simulator run's ground truth against the tables")
    p.add_argument("ground_truth", help="the ground-truth JSON questline-loadgen wrote")
    p.add_argument("--wait", type=float, default=0, help="seconds to wait for the tables to catch up")
    p.set_defaults(func=cmd_verify)
    args = parser.parse_args(argv)
    try:
        return args.func(args, console)
    except settings_module.SettingsError as exc:
        console.print(f"questline {args.command}: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
