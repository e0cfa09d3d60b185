"""questline-images: build the images the chart deploys (docs/images.md).

questline-images base                      debootstrap + import the base, once
questline-images build [NAME...]           build (all by default), OCI archives in the cache
questline-images build NAME --tag REF --push   also tag REF and push it over plain HTTP
questline-images args NAME                 the build args of NAME (KEY=VALUE lines)
"""

import argparse
import json
import sys
import time

from questline_devkit.versions import versions
from questline_images import base, buildah, settings, specs
from questline_settings import SettingsError


def _build(args: argparse.Namespace) -> int:
    s = settings.load()
    names = args.names or list(specs.NAMES)
    unknown = [n for n in names if n not in specs.NAMES]
    if unknown:
        raise SettingsError(f"no image {', '.join(unknown)} (expected some of {', '.join(specs.NAMES)})")
    if args.tag and len(names) != 1:
        raise SettingsError("--tag names one image reference: give exactly one NAME with it")
    if args.push and not args.tag:
        raise SettingsError("--push needs --tag REF (the registry reference to push to)")
    base_ref = s.base_image
    if base_ref == versions()["base"]["local_image"]:
        base.ensure_base(s)
    results = []
    started = time.monotonic()
    for name in names:
        image = specs.spec(name, base_ref)
        results.append(buildah.build(s, image, extra_tags=(args.tag,) if args.tag else ()))
        if args.push:
            buildah.push(s, image.ref, args.tag)
    total = time.monotonic() - started
    summary = {
        "total_wall_seconds": round(total, 1),
        "total_cpu_seconds": round(sum(r.cpu_seconds for r in results), 1),
        "images": {
            r.name: {
                "ref": r.ref,
                "size_mb": round(r.size_bytes / 1e6),
                "wall_seconds": round(r.wall_seconds, 1),
                "cpu_seconds": round(r.cpu_seconds, 1),
                "archive": str(r.archive),
            }
            for r in results
        },
    }
    (s.images_dir / "last-build.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"[images] done: {len(results)} image(s) in {total:.0f} s; summary in {s.images_dir / 'last-build.json'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="questline-images", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("base", help="debootstrap the Debian base and import it into the image store (once)")
    build = sub.add_parser("build", help="build images (all when no NAME is given)")
    build.add_argument("names", nargs="*", metavar="NAME", help=", ".join(specs.NAMES))
    build.add_argument("--tag", help="also tag the image as REF (e.g. 127.0.0.1:5000/questline/trino:abc)")
    build.add_argument("--push", action="store_true", help="push --tag's REF to its registry over plain HTTP")
    args_cmd = sub.add_parser("args", help="print the build args of one image")
    args_cmd.add_argument("name", choices=specs.NAMES)
    args = parser.parse_args(argv)
    try:
        if args.command == "base":
            print(base.ensure_base(settings.load()))
            return 0
        if args.command == "args":
            s = settings.load()
            for key, value in specs.build_args(args.name, s.base_image).items():
                print(f"{key}={value}")
            return 0
        return _build(args)
    except (buildah.BuildError, SettingsError) as exc:
        print(f"questline-images: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
