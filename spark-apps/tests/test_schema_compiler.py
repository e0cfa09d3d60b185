"""The JSON Schema compiler refuses what it cannot enforce (no Spark needed)."""

import pytest

from questline_events import load_schema
from questline_spark.schema import UnsupportedSchema, _Compiler

ROOT = load_schema()


@pytest.mark.parametrize(
    "node",
    [
        {"type": "string", "multipleOf": 2},  # a keyword it does not know
        {"type": "boolean"},  # a JSON type it has no shape for
        {"type": "object", "properties": {"a": {"type": "string"}}},  # undeclared keys allowed
        {"type": "object", "additionalProperties": False, "properties": {"user-agent": {"type": "string"}}},
        {"type": "object", "additionalProperties": False, "required": ["b"], "properties": {}},
        {"anyOf": [{"type": "object", "additionalProperties": False}, {"type": "null"}]},
        {"description": "says nothing about its type"},
    ],
)
def test_nodes_it_cannot_enforce_raise(node):
    with pytest.raises(UnsupportedSchema):
        _Compiler(ROOT).shape(node)


def test_optional_and_nullable_properties_compile_to_optional_groups():
    node = {
        "type": "object",
        "additionalProperties": False,
        "required": ["b"],
        "properties": {"b": {"type": ["string", "null"]}, "a": {"const": 1}},
    }
    assert _Compiler(ROOT).shape(node) == "OBJECT<(?:a: BIGINT(?:, |(?=>)))?b: (?:VOID|STRING)(?:, |(?=>))>"
