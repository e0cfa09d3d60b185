"""questline-kind up|down|dev|smoke|tools: the laptop path to the stack on Kubernetes;
node-run|node-dev: the same skaffold.yaml on the one-node cluster (profile `node`);
usage: CPU and memory of every pod of the namespace, measured from its cgroups, against its requests."""

import argparse
import os
import subprocess
import sys

from questline_kind import cluster, kube, smoke, tools, usage
from questline_kind.settings import SettingsError, load


def _dev(settings) -> None:
    skaffold = tools.ensure(settings, "skaffold")
    tools.ensure(settings, "helm")
    env = {**os.environ, "PATH": f"{settings.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    argv = [skaffold, "dev", "--profile", "kind", "--kube-context", settings.kind_context, "--port-forward"]
    os.chdir(settings.repo)
    os.execve(skaffold, argv, env)


def skaffold_node_argv(settings, skaffold: str, command: str, *, port_forward: bool = True) -> list[str]:
    """skaffold run|dev of the node profile: images pushed to the node's registry (--default-repo
    rewrites questline/<name> to <registry>/questline_<name>, which the chart then pulls)."""
    argv = [
        skaffold, command, "--profile", "node",
        "--kube-context", settings.node_context,
        "--default-repo", settings.node_registry,
        "--insecure-registry", settings.node_registry,
    ]  # fmt: skip
    return argv + (["--port-forward"] if port_forward else [])


def _node(settings, command: str) -> None:
    skaffold = tools.ensure(settings, "skaffold")
    tools.ensure(settings, "helm")
    env = {**os.environ, "PATH": f"{settings.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.chdir(settings.repo)
    argv = skaffold_node_argv(settings, skaffold, command)
    print("[kind] " + " ".join(argv), flush=True)
    os.execve(skaffold, argv, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-kind", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "dev", "smoke", "tools", "node-run", "node-dev", "usage"))
    args = parser.parse_args(argv)
    try:
        settings = load()
        if args.command == "up":
            cluster.up(settings)
        elif args.command == "down":
            cluster.down(settings)
        elif args.command == "dev":
            _dev(settings)
        elif args.command in ("node-run", "node-dev"):
            _node(settings, args.command.removeprefix("node-"))
        elif args.command == "usage":
            api = kube.api_client(settings, settings.node_context)
            print(usage.table(usage.measure(api, settings.namespace)))
        elif args.command == "smoke":
            smoke.run(settings)
        else:
            for name in ("kind", "skaffold"):
                print(f"{name}: {tools.ensure(settings, name)}")
    except (SettingsError, tools.ToolError, kube.NotReady, smoke.SmokeFailure) as exc:
        print(f"questline-kind {args.command}: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"questline-kind {args.command}: {' '.join(exc.cmd)} failed:\n{exc.stderr or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
