"""The values schemas are strict everywhere and share one definition of the common
shapes (image, resources, global), and tools/schemas.py converts CRD schemas to JSON
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


def test_shared_definitions_are_identical_in_every_schema():
    umbrella = json.loads((CHART / "values.schema.json").read_text())
    definitions = {"global": umbrella["$defs"]["global"]}
    for chart, schema in SCHEMAS.items():
        for name, definition in schema["$defs"].items():
            first = definitions.setdefault(name, definition)
            assert definition == first, f"$defs.{name} of {chart} differs from the others"


def _schemas_module():
    spec = importlib.util.spec_from_file_location("questline_tools_schemas", REPO / "tools" / "schemas.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crd_conversion_closes_objects_and_spells_out_kubernetes_extensions():
    convert = _schemas_module().crd_to_json_schema
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
