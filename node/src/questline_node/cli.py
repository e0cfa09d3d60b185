"""questline-node: a one-node Kubernetes cluster here (docs/node.md);
questline-apiserver: etcd + kube-apiserver alone on loopback, for the chart install tests."""

import argparse
import json
import sys

from questline_devkit.process import StartError
from questline_node import build, control_plane, images, network, node
from questline_node.settings import SettingsError, load_apiserver, load_build, load_node


def node_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-node", description="A one-node Kubernetes cluster here.")
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="build every binary of the node unless already built")
    build_cmd.add_argument("--force", action="store_true", help="rebuild even if the binaries exist")
    commands.add_parser("up", help="build if needed, start everything, wait until Ready; prints KUBECONFIG")
    commands.add_parser("down", help="stop everything (data kept); leaves nothing running or mounted")
    commands.add_parser("purge", help="down, then delete the node's state (etcd, registry, volumes, certificates)")
    commands.add_parser("status", help="processes, memory, node conditions, add-ons as JSON")
    commands.add_parser("env", help="print export KUBECONFIG=... for eval")
    load_cmd = commands.add_parser("load", help="push $QUESTLINE_CACHE/images/<name>.oci.tar into the node's registry")
    load_cmd.add_argument("image", help="image name (questline/<name>) or the path of an OCI archive")
    commands.add_parser("leftovers", help="list what the node still has on the machine (empty after down)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            build.build(load_build(), build.NODE, force=args.force)
            return 0
        s = load_node()
        if args.command == "up":
            node.up(s)
        elif args.command == "down":
            node.down(s)
        elif args.command == "purge":
            node.purge(s)
        elif args.command == "status":
            report = node.status(s)
            print(json.dumps(report, indent=2))
            return 0 if node.healthy(report) else 1
        elif args.command == "env":
            print(f"export KUBECONFIG={s.kubeconfig}")
        elif args.command == "load":
            ref = images.load(s, args.image)
            print(ref)
        elif args.command == "leftovers":
            found = node.leftovers(s)
            print("\n".join(found) if found else "nothing left")
            return 1 if found else 0
    except (SettingsError, StartError, build.BuildError, network.NetworkError) as error:
        print(f"[node] error: {error}", file=sys.stderr)
        return 1
    return 0


def apiserver_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-apiserver", description="etcd + kube-apiserver on loopback.")
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
        settings = load_apiserver()
        if args.command == "build":
            build.build(settings, build.APISERVER_ONLY, force=args.force)
        elif args.command == "up":
            build.build(settings, build.APISERVER_ONLY)
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
    sys.exit(apiserver_main() if "apiserver" in sys.argv[0] else node_main())
