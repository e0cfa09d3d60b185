"""questline-kind up|down|dev|smoke|tools: the laptop path to the stack on Kubernetes."""

import argparse
import os
import subprocess
import sys

from questline_kind import cluster, kube, smoke, tools
from questline_kind.settings import SettingsError, load


def _dev(settings) -> None:
    skaffold = tools.ensure(settings, "skaffold")
    tools.ensure(settings, "helm")
    env = {**os.environ, "PATH": f"{settings.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    argv = [skaffold, "dev", "--profile", "kind", "--kube-context", settings.kube_context, "--port-forward"]
    os.chdir(settings.repo)
    os.execve(skaffold, argv, env)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-kind", description=__doc__)
    parser.add_argument("command", choices=("up", "down", "dev", "smoke", "tools"))
    args = parser.parse_args(argv)
    try:
        settings = load()
        if args.command == "up":
            cluster.up(settings)
        elif args.command == "down":
            cluster.down(settings)
        elif args.command == "dev":
            _dev(settings)
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
