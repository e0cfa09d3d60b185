"""Write the `$defs` of every values.schema.json of charts/questline from one source.

The shapes every chart shares (image, resources, cpu, memory, port, heap, storage,
antiAffinity, global) are written once, in charts/values-schema-definitions.yaml. Each
values.schema.json gets exactly the definitions its properties `$ref`, and those these
refer to, in the source's order; the rest of the file (the chart's own properties) is
kept as it is. Definitions a chart keeps for itself (names the source does not have)
stay, after the shared ones.

    python tools/values_schemas.py          rewrite the stale files (make charts-schemas)
    python tools/values_schemas.py --check  list the stale files, exit 1 if any (make charts-check)
"""

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHARTS = REPO / "charts"
DEFINITIONS = CHARTS / "values-schema-definitions.yaml"
_REF = re.compile(r"^#/\$defs/([A-Za-z0-9_]+)$")


class SchemaError(ValueError):
    pass


def schema_files() -> list[Path]:
    """The umbrella's values.schema.json, then each subchart's."""
    umbrella = CHARTS / "questline" / "values.schema.json"
    return [umbrella, *sorted(CHARTS.glob("questline/charts/*/values.schema.json"))]


def load_definitions(path: Path = DEFINITIONS) -> dict[str, Any]:
    definitions = yaml.safe_load(path.read_text())
    if not isinstance(definitions, dict) or not definitions:
        raise SchemaError(f"{path}: expected a mapping of definition names to JSON schemas")
    return definitions


def refs(node: Any) -> set[str]:
    """Names of the definitions a schema fragment refers to with `#/$defs/<name>`."""
    if isinstance(node, dict):
        found = set()
        for key, value in node.items():
            if key == "$ref":
                match = _REF.match(value) if isinstance(value, str) else None
                if not match:
                    raise SchemaError(f"$ref {value!r} is not a local #/$defs/<name> reference")
                found.add(match.group(1))
            else:
                found |= refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(refs(item) for item in node))
    return set()


def with_definitions(schema: dict[str, Any], shared: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$defs` rebuilt: the shared definitions it needs, then its own."""
    own = {name: d for name, d in schema.get("$defs", {}).items() if name not in shared}
    body = {key: value for key, value in schema.items() if key != "$defs"}
    available = {**shared, **own}
    needed, todo = set(), refs(body) | refs(own)
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        if name not in available:
            raise SchemaError(f"#/$defs/{name} is neither in {DEFINITIONS.name} nor defined by the schema itself")
        needed.add(name)
        todo |= refs(available[name])
    defs = {name: shared[name] for name in shared if name in needed} | own
    # `$defs` stays where the file has it, so a regenerated file differs only where a definition does.
    rebuilt = {key: defs if key == "$defs" else value for key, value in schema.items()}
    rebuilt.setdefault("$defs", defs)
    return rebuilt if defs else body


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2) + "\n"


def generated(shared: dict[str, Any] | None = None) -> dict[Path, str]:
    """Every values.schema.json as the generator writes it."""
    shared = load_definitions() if shared is None else shared
    out = {}
    for path in schema_files():
        try:
            out[path] = render(with_definitions(json.loads(path.read_text()), shared))
        except SchemaError as exc:
            raise SchemaError(f"{path.relative_to(REPO)}: {exc}") from None
    return out


def stale() -> list[Path]:
    return [path for path, text in generated().items() if path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only list stale files; exit 1 if any")
    args = parser.parse_args(argv)
    try:
        files = generated()
    except SchemaError as exc:
        print(f"[values-schemas] {exc}", file=sys.stderr)
        return 2
    changed = [path for path, text in files.items() if path.read_text() != text]
    for path in changed:
        name = path.relative_to(REPO)
        if args.check:
            print(f"[values-schemas] {name}: $defs differ from {DEFINITIONS.relative_to(REPO)}", file=sys.stderr)
        else:
            path.write_text(files[path])
            print(f"[values-schemas] wrote {name}", file=sys.stderr)
    if args.check and changed:
        print("[values-schemas] run `make charts-schemas` and commit the result", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
