"""questline-kind up|down|dev|smoke|tools: the laptop path to the stack on Kubernetes;
node-run|node-dev: the same skaffold.yaml on the one-node cluster (profile `node`);
usage: CPU and memory of every pod of the namespace, measured from its cgroups, against its requests."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from questline_kind import cluster, kube, smoke, tools, usage
from questline_kind.settings import SettingsError, load

# skaffold's global settings for our runs, in the cache (a user's ~/.skaffold/config is left alone):
# no usage data sent to Google and no update check, since these machines reach only package
# registries and every version is pinned anyway.
SKAFFOLD_GLOBAL_CONFIG = "global:\n  collect-metrics: false\n  update-check: false\n"


def skaffold_global_config(settings) -> Path:
    path = settings.cache_dir / "skaffold" / "config.yaml"
    if not path.is_file() or path.read_text() != SKAFFOLD_GLOBAL_CONFIG:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SKAFFOLD_GLOBAL_CONFIG)
    return path


def skaffold_argv(settings, skaffold: str, command: str, profile: str, *, port_forward: bool = True) -> list[str]:
    """skaffold run|dev of a profile. kind loads the images into its node; the node profile pushes
    them to the node's registry (--default-repo rewrites questline/<name> to
    <registry>/questline_<name>, which the chart then pulls). Port-forwards are the ones skaffold.yaml
    declares (API :8080, Trino :8081), not every Service of the release."""
    argv = [skaffold, command, "--profile", profile, "--config", str(skaffold_global_config(settings))]
    if profile == "node":
        argv += [
            "--kube-context", settings.node_context,
            "--default-repo", settings.node_registry,
            "--insecure-registry", settings.node_registry,
        ]  # fmt: skip
    else:
        argv += ["--kube-context", settings.kind_context]
    return argv + (["--port-forward=user"] if port_forward else [])


def skaffold_env(settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment skaffold runs in (default: ours): the pinned helm it calls first on PATH."""
    env = dict(os.environ if base is None else base)
    env["PATH"] = f"{settings.bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def _skaffold(settings, command: str, profile: str) -> None:
    skaffold = tools.ensure(settings, "skaffold")
    tools.ensure(settings, "helm")
    env = skaffold_env(settings)
    os.chdir(settings.repo)
    argv = skaffold_argv(settings, skaffold, command, profile)
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
            _skaffold(settings, "dev", "kind")
        elif args.command in ("node-run", "node-dev"):
            _skaffold(settings, args.command.removeprefix("node-"), "node")
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
