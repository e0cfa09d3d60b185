"""questline-stack: run the local stack of real servers.

questline-stack fetch            download every artifact into the cache
questline-stack up [NAME...]     start (all or some) components; harmless when running
questline-stack down [--purge]   stop everything; --purge also deletes the state dir
questline-stack status           one line per process: pid, resident memory, readiness
questline-stack logs [NAME]      where the logs are, or the tail of one
questline-stack check            end-to-end check: Kafka, HDFS, Spark -> Hive -> Trino
questline-stack env              client settings as shell exports
"""

import argparse
import shutil
import sys
import time

from questline_devkit import process
from questline_devkit.artifacts import FetchError, log
from questline_devkit.process import StartError
from questline_events import TRINO_USERS
from questline_settings import SettingsError
from questline_settings import kafka as kafka_auth
from questline_stack.components import all_components
from questline_stack.settings import KAFKA_ADMIN, load


def _select(components, names):
    if not names:
        return components
    known = {c.name: c for c in components}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown component(s) {', '.join(unknown)}; known: {', '.join(known)}")
    # Keep start order even if the user lists them differently.
    return [c for c in components if c.name in names]


def cmd_fetch(s, args):
    for c in _select(all_components(s), args.names):
        log(f"fetching {c.name}")
        c.fetch()


def cmd_up(s, args):
    t0 = time.monotonic()
    s.state_dir.mkdir(parents=True, exist_ok=True)
    for c in _select(all_components(s), args.names):
        c.fetch()
        t = time.monotonic()
        c.start()
        if c.processes:
            log(f"{c.name} up in {time.monotonic() - t:.1f}s")
    log(f"stack up in {time.monotonic() - t0:.1f}s; state in {s.state_dir}, logs in {s.logs_dir}")
    for key, value in s.client_env().items():
        # The log is kept; the password is in its file (`questline-stack env` prints it).
        log(f"  {key}={value}" if key != kafka_auth.PASSWORD else f"  {key}=*** ({s.kafka_users_dir / KAFKA_ADMIN})")


def cmd_down(s, args):
    components = all_components(s)
    if not args.names:
        # First whatever else runs on the stack (the demo's API and streaming job,
        # test servers): every process spawned into this state dir has a pid file.
        own = {name for c in components for name in c.processes}
        for pid_path in sorted(s.run_dir.glob("*.pid")):
            if pid_path.stem not in own:
                process.stop(s, pid_path.stem)
    for c in reversed(_select(components, args.names)):
        c.stop()
    if args.purge:
        if args.names:
            raise SystemExit("--purge removes the whole state dir; do not name components with it")
        shutil.rmtree(s.state_dir, ignore_errors=True)
        log(f"removed {s.state_dir}")


def cmd_status(s, args):
    ok = True
    for c in all_components(s):
        for name, pid in c.pids().items():
            if pid is None:
                ok = False
                print(f"{name:18} stopped")
            else:
                print(f"{name:18} pid {pid:<8} mem {process.rss_mib(pid):7.0f} MiB (PSS)")
        if c.processes and all(c.pids().values()):
            try:
                ready = c.ready()
            except Exception:
                ready = False
            ok &= ready
            print(f"{'':18} {c.name}: {'ready' if ready else 'NOT ready'}")
    print(f"state: {s.state_dir}\nlogs:  {s.logs_dir}")
    return 0 if ok else 1


def cmd_logs(s, args):
    if not args.name:
        for path in sorted(s.logs_dir.glob("*.log")):
            print(path)
        return 0
    print(process.tail(process.log_file(s, args.name), args.lines))
    return 0


def cmd_kill(s, args):
    process.kill(s, args.name)


def cmd_check(s, args):
    from questline_stack.check import run_check

    return run_check(s)


def cmd_env(s, args):
    env = s.client_env()
    if args.trino_user:
        env.update(s.trino_env(args.trino_user))
    for key, value in env.items():
        print(f"export {key}={value}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="questline-stack", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("fetch", help="download artifacts into the cache")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("up", help="start components (all by default)")
    p.add_argument("names", nargs="*")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="stop components (all by default)")
    p.add_argument("names", nargs="*")
    p.add_argument("--purge", action="store_true", help="also delete the state directory (all data)")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("status", help="processes, memory and readiness")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("logs", help="list log files, or show the tail of one")
    p.add_argument("name", nargs="?")
    p.add_argument("-n", "--lines", type=int, default=60)
    p.set_defaults(func=cmd_logs)
    p = sub.add_parser("kill", help="SIGKILL one process (fault injection)")
    p.add_argument("name")
    p.set_defaults(func=cmd_kill)
    p = sub.add_parser("check", help="end-to-end check of the running stack")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("env", help="print client settings as shell exports")
    p.add_argument(
        "--trino-user",
        choices=TRINO_USERS,
        help="also log in to Trino as this user (QUESTLINE_TRINO_USER, _PASSWORD_FILE; docs/security.md)",
    )
    p.set_defaults(func=cmd_env)
    args = parser.parse_args(argv)
    try:
        settings = load()
        return args.func(settings, args) or 0
    except (SettingsError, FetchError, StartError) as exc:
        print(f"questline-stack {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
