"""The values schemas are strict everywhere and share one definition of the common
shapes (image, resources, global: charts/values-schema-definitions.yaml, written into each
schema by tools/values_schemas.py), and tools/schemas.py converts CRD schemas to JSON
schemas as strict as the API server."""

import importlib.util
import json

import pytest
from chartlib import CHART, REPO

SCHEMAS = {p.parent.name: json.loads(p.read_text()) for p in sorted(CHART.glob("charts/*/values.schema.json"))}


def _objects(node, path="$"):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _objects(item, f"{path}[{i}]")


def test_every_subchart_has_a_schema():
    subcharts = {p.name for p in (CHART / "charts").iterdir() if (p / "Chart.yaml").is_file()}
    assert set(SCHEMAS) == subcharts - {"common"}


@pytest.mark.parametrize("chart", SCHEMAS)
def test_every_object_with_properties_forbids_unknown_keys(chart):
    open_objects = [path for path, node in _objects(SCHEMAS[chart]) if node.get("additionalProperties") is not False]
    assert open_objects == []


def test_every_values_schema_has_the_shared_definitions_generated_from_their_one_source():
    stale = _tool("values_schemas").stale()
    assert stale == [], f"run `make charts-schemas`: stale $defs in {[str(p.relative_to(REPO)) for p in stale]}"


def test_a_schema_gets_exactly_the_shared_definitions_it_refers_to_and_keeps_its_own():
    module = _tool("values_schemas")
    shared = {
        "port": {"type": "integer"},
        "resources": {"properties": {"cpu": {"$ref": "#/$defs/cpu"}}},
        "cpu": {"type": "string"},
        "unused": {"type": "string"},
    }
    schema = {
        "properties": {"resources": {"$ref": "#/$defs/resources"}, "pool": {"$ref": "#/$defs/pool"}},
        "$defs": {"port": {"type": "string"}, "pool": {"properties": {"port": {"$ref": "#/$defs/port"}}}},
        "if": {},
    }
    rebuilt = module.with_definitions(schema, shared)
    assert list(rebuilt) == ["properties", "$defs", "if"]
    assert rebuilt["$defs"] == {"port": shared["port"], "resources": shared["resources"], "cpu": shared["cpu"]} | {
        "pool": schema["$defs"]["pool"]
    }
    assert list(rebuilt["$defs"]) == ["port", "resources", "cpu", "pool"]
    with pytest.raises(module.SchemaError, match="#/\\$defs/nowhere is neither"):
        module.with_definitions({"properties": {"x": {"$ref": "#/$defs/nowhere"}}}, shared)


def _tool(name: str):
    """A module of tools/ (not a package), loaded from its file."""
    spec = importlib.util.spec_from_file_location(f"questline_tools_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crd_conversion_closes_objects_and_spells_out_kubernetes_extensions():
    convert = _tool("schemas").crd_to_json_schema
    crd_schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "port": {"x-kubernetes-int-or-string": True},
                    "note": {"type": "string", "nullable": True},
                    "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": True, "properties": {}},
                },
            }
        },
    }
    schema = convert(crd_schema)
    spec = schema["properties"]["spec"]
    assert schema["additionalProperties"] is False and spec["additionalProperties"] is False
    assert spec["properties"]["port"] == {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    assert spec["properties"]["note"]["type"] == ["string", "null"]
    assert "additionalProperties" not in spec["properties"]["config"]
    assert "additionalProperties" not in crd_schema, "the input must not be modified"
