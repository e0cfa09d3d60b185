"""questline-apiserver build | up | down [--purge] | status | env"""

import argparse
import json
import sys

from questline_apiserver import build, control_plane
from questline_apiserver.settings import SettingsError, load
from questline_devkit.process import StartError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-apiserver", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build kube-apiserver and etcd unless already built")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if the binaries exist")
    commands.add_parser("up", help="build if needed, start etcd and kube-apiserver, wait until ready")
    down_cmd = commands.add_parser("down", help="stop both")
    down_cmd.add_argument("--purge", action="store_true", help="also delete certificates and etcd data")
    commands.add_parser("status", help="pid, memory and readiness as JSON")
    commands.add_parser("env", help="print KUBECONFIG=... for eval")
    args = parser.parse_args(argv)
    try:
        settings = load()
        if args.command == "build":
            build.build(settings, force=args.force)
        elif args.command == "up":
            build.build(settings)
            control_plane.up(settings)
        elif args.command == "down":
            control_plane.down(settings, purge=args.purge)
        elif args.command == "status":
            report = control_plane.status(settings)
            print(json.dumps(report, indent=2))
            return 0 if all(p["ready"] for p in report.values()) else 1
        elif args.command == "env":
            print(f"export KUBECONFIG={settings.kubeconfig}")
    except (SettingsError, StartError, build.BuildError) as error:
        print(f"[apiserver] error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
