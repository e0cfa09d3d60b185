"""The event JSON Schema compiled into Spark: a StructType and a validity Column.

Both are derived from `questline_events.load_schema()`, the file the API validates
with, so there is no second, hand-maintained schema. Only the keywords that file
uses are understood; any other keyword raises `UnsupportedSchema`, so a schema
change that this compiler cannot enforce fails the unit tests instead of being
silently ignored.

Validation runs on a VARIANT (Spark's parsed JSON), not on `from_json` output:
`from_json` coerces a JSON number into a string column, while `schema_of_variant`
tells the real JSON type, so `"description": 5` is rejected as the API rejects it.
"""

import dataclasses
import functools
import re
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import DataType, LongType, StringType, StructField, StructType

from questline_events import load_schema

# Keywords that only document; they never change what is valid.
_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "title", "description"})
_HANDLED = frozenset(
    {
        "type",
        "enum",
        "const",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "format",
        "properties",
        "required",
        "additionalProperties",
        "anyOf",
        "allOf",
        "$ref",
    }
)

# The field that selects the payload branch: its check decides `unknown_event_type`.
DISCRIMINATOR = "event_type"


class UnsupportedSchema(ValueError):
    """The event schema uses a keyword or shape this compiler does not enforce."""


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    if not ref.startswith("#/$defs/"):
        raise UnsupportedSchema(f"only local '#/$defs/' references are supported, got {ref!r}")
    return _resolve(root["$defs"][ref.removeprefix("#/$defs/")], root)


def _check_keywords(node: dict[str, Any]) -> None:
    unknown = set(node) - _ANNOTATIONS - _HANDLED
    if unknown:
        raise UnsupportedSchema(f"unsupported JSON Schema keyword(s) {sorted(unknown)} in {node}")


def _types_of(node: dict[str, Any]) -> tuple[str, ...]:
    """The JSON types a node allows (from type/enum/const), 'null' included when allowed."""
    if "type" in node:
        declared = node["type"]
        return tuple(declared) if isinstance(declared, list) else (declared,)
    values = node.get("enum", [node["const"]] if "const" in node else None)
    if values is None:
        raise UnsupportedSchema(f"cannot tell the type of {node}")
    kinds = {"null" if v is None else "string" if isinstance(v, str) else "integer" for v in values}
    if any(isinstance(v, bool | float | dict | list) for v in values):
        raise UnsupportedSchema(f"enum/const values must be strings, integers or null: {node}")
    return tuple(sorted(kinds))


def _kinds(node: dict[str, Any], root: dict[str, Any]) -> frozenset[str]:
    """The JSON types a node allows, anyOf alternatives included."""
    node = _resolve(node, root)
    _check_keywords(node)
    if {"type", "enum", "const"} & set(node):
        kinds = frozenset(_types_of(node))
    elif {"properties", "required", "additionalProperties"} & set(node):
        kinds = frozenset({"object"})
    elif "anyOf" not in node:
        raise UnsupportedSchema(f"every node must say its type: {node}")
    else:
        kinds = frozenset(_SHAPES) | {"object"}
    if "anyOf" in node:
        alternatives = frozenset().union(*(_kinds(b, root) for b in node["anyOf"]))
        if "object" in alternatives:
            raise UnsupportedSchema(f"anyOf alternatives must not be objects: {node}")
        kinds &= alternatives
    if not kinds <= set(_SHAPES) | {"object"}:
        raise UnsupportedSchema(f"JSON types {sorted(kinds)} are not supported: {node}")
    return kinds


def spark_type(node: dict[str, Any], root: dict[str, Any]) -> DataType:
    """The Spark type a JSON Schema node maps to (null-ness aside)."""
    node = _resolve(node, root)
    kinds = _kinds(node, root) - {"null"}
    if kinds == {"string"}:
        return StringType()
    if kinds == {"integer"}:
        return LongType()
    if kinds == {"object"}:
        return StructType(
            [StructField(name, spark_type(sub, root)) for name, sub in node.get("properties", {}).items()]
        )
    raise UnsupportedSchema(f"no single Spark type for JSON types {sorted(kinds)} in {node}")


@dataclasses.dataclass(frozen=True)
class PayloadBranch:
    """One `allOf` if/then branch: these event types carry this payload schema."""

    event_types: tuple[str, ...]
    payload: dict[str, Any]


def payload_branches(root: dict[str, Any] | None = None) -> list[PayloadBranch]:
    root = root or load_schema()
    branches = []
    for branch in root.get("allOf", []):
        if set(branch) != {"if", "then"}:
            raise UnsupportedSchema(f"allOf branches must be if/then pairs, got {sorted(branch)}")
        condition = branch["if"].get("properties", {})
        outcome = branch["then"].get("properties", {})
        if set(condition) != {DISCRIMINATOR} or set(outcome) != {"payload"}:
            raise UnsupportedSchema(f"allOf branches must map {DISCRIMINATOR} to payload, got {branch}")
        selector = condition[DISCRIMINATOR]
        types = tuple(selector["enum"]) if "enum" in selector else (selector["const"],)
        branches.append(PayloadBranch(types, _resolve(outcome["payload"], root)))
    return branches


def payload_fields(event_types: tuple[str, ...], root: dict[str, Any] | None = None) -> StructType:
    """The typed payload columns of events of these types (union over their branches)."""
    root = root or load_schema()
    fields: dict[str, StructField] = {}
    for branch in payload_branches(root):
        if set(branch.event_types) & set(event_types):
            for field in spark_type(branch.payload, root).fields:
                if fields.setdefault(field.name, field).dataType != field.dataType:
                    raise UnsupportedSchema(f"payload field {field.name!r} has two types across branches")
    return StructType(list(fields.values()))


@functools.cache
def event_struct() -> StructType:
    """Every field of the envelope, with `payload` the union of all payload branches."""
    root = load_schema()
    envelope = spark_type(root, root)
    return StructType(
        [
            StructField(f.name, payload_fields(tuple(t for b in payload_branches(root) for t in b.event_types)))
            if f.name == "payload"
            else f
            for f in envelope.fields
        ]
    )


# ---------------------------------------------------------------- validation
#
# Validation is two checks, each done once per record:
#
# 1. The shape: the JSON type at every path. `schema_of_variant` of the whole
#    event renders it in one string, keys sorted, e.g.
#    `OBJECT<description: STRING, payload: OBJECT<guild_name: VOID>, ...>`, and
#    each payload branch of the schema compiles to one regular expression over that
#    rendering. Names the schema cannot declare (quoted in backticks) never match.
# 2. The values (enum, pattern, lengths, bounds): checked on the typed columns of
#    `from_json`, a streaming parse that is many times cheaper than reading each
#    path out of the VARIANT. `from_json` alone would coerce a JSON number into a
#    string column; step 1 is what rules that out.

# How `schema_of_variant` renders each JSON type the schema may allow.
_SHAPES = {"string": "STRING", "integer": "BIGINT", "null": "VOID"}
# The API checks formats with these same loose patterns (questline_events.schema).
_FORMAT_PATTERNS = {"uuid": r"^[0-9a-f-]{36}$", "date-time": r"^\d{4}-"}
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The property the allOf branches type per event type.
_BRANCHED = "payload"

# Helper columns `with_validity` adds: the shape rendering, and the event parsed by
# `from_json` into `event_struct()`.
SHAPE = "_event_shape"
TYPED = "_event_typed"


class _Compiler:
    def __init__(self, root: dict[str, Any]):
        self.root = root

    def shape(self, node: dict[str, Any], overrides: dict[str, str] | None = None) -> str:
        """A regex for the `schema_of_variant` renderings of values whose JSON types fit `node`."""
        node = _resolve(node, self.root)
        kinds = sorted(_kinds(node, self.root))
        alternatives = [self.object_shape(node, overrides or {}) if k == "object" else _SHAPES[k] for k in kinds]
        return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"

    def object_shape(self, node: dict[str, Any], overrides: dict[str, str]) -> str:
        if node.get("additionalProperties", True) is not False:
            raise UnsupportedSchema(f"objects must say additionalProperties: false: {node}")
        required = set(node.get("required", []))
        properties = node.get("properties", {})
        if not required <= set(properties):
            raise UnsupportedSchema(f"required names a property it does not declare: {node}")
        pieces = []
        # schema_of_variant lists keys sorted; a key is followed by ", " or by the closing ">".
        for name in sorted(properties):
            if not _FIELD_NAME.fullmatch(name):
                raise UnsupportedSchema(f"property names must be plain identifiers, got {name!r}")
            value = overrides[name] if name in overrides else self.shape(properties[name])
            piece = f"{name}: {value}(?:, |(?=>))"
            pieces.append(piece if name in required else f"(?:{piece})?")
        return "OBJECT<" + "".join(pieces) + ">"

    def rules(self, node: dict[str, Any], value: Column, data_type: DataType) -> Column:
        """The value keywords of `node` hold for `value` (typed as `data_type`, null when
        the JSON value is null or missing), given that its shape already matched."""
        node = _resolve(node, self.root)
        if isinstance(data_type, StructType):
            fields = {f.name: f.dataType for f in data_type.fields}
            checks = [
                self.rules(sub, value.getField(name), fields[name]) for name, sub in node.get("properties", {}).items()
            ]
            return functools.reduce(Column.__and__, checks, F.lit(True))
        kind = "string" if isinstance(data_type, StringType) else "integer"
        checks = []
        if "anyOf" in node:
            # A non-null value is of the leaf's one non-null kind; some alternative
            # allowing that kind must accept it.
            alternatives = [self.rules(b, value, data_type) for b in node["anyOf"] if kind in _kinds(b, self.root)]
            checks.append(functools.reduce(Column.__or__, alternatives, F.lit(False)))
        if "enum" in node or "const" in node:
            values = node.get("enum", [node.get("const")])
            checks.append(value.isin([v for v in values if v is not None]))
        if kind == "string":
            if "pattern" in node:
                checks.append(value.rlike(node["pattern"]))
            if "format" in node:
                checks.append(value.rlike(_FORMAT_PATTERNS[node["format"]]))
            if "minLength" in node:
                checks.append(F.char_length(value) >= node["minLength"])
            if "maxLength" in node:
                checks.append(F.char_length(value) <= node["maxLength"])
        else:
            if "minimum" in node:
                checks.append(value >= node["minimum"])
            if "maximum" in node:
                checks.append(value <= node["maximum"])
        # Null passed the shape check (it is allowed there); rules apply to values of their type.
        return value.isNull() | functools.reduce(Column.__and__, checks, F.lit(True))


@functools.cache
def _branch_shapes() -> tuple[tuple[tuple[str, ...], str, dict[str, Any]], ...]:
    """(event types, whole-event shape regex, payload node) per payload branch."""
    root = load_schema()
    envelope_payload = _resolve(root["properties"][_BRANCHED], root)
    if set(envelope_payload) - _ANNOTATIONS != {"type"} or envelope_payload["type"] != "object":
        raise UnsupportedSchema(f"the envelope's {_BRANCHED} must be a plain object; its branches type it")
    branches = payload_branches(root)
    discriminator = root["properties"][DISCRIMINATOR]
    declared = set(discriminator.get("enum", [discriminator.get("const")]))
    covered = {t for b in branches for t in b.event_types}
    if declared != covered:
        raise UnsupportedSchema(f"every event type needs exactly one payload branch: {sorted(declared ^ covered)}")
    compiler = _Compiler(root)
    return tuple(
        (b.event_types, "^" + compiler.object_shape(root, {_BRANCHED: compiler.shape(b.payload)}) + "$", b.payload)
        for b in branches
    )


def with_validity(frame: DataFrame, event: str, text: str) -> DataFrame:
    """Add `_event_is_object`, `_event_type_known` and `_event_valid` for the VARIANT
    column `event` parsed from the JSON text column `text`.

    `_event_is_object`: the value is a JSON object (false for invalid JSON, null, arrays, scalars).
    `_event_type_known`: the discriminator is a string the schema allows.
    `_event_valid`: the whole event satisfies the schema.
    Also adds `SHAPE` and `TYPED`, the event as `event_struct()` (trust its fields only
    for valid events: `from_json` coerces mismatched types).
    """
    root = load_schema()
    compiler = _Compiler(root)
    struct = event_struct()
    is_object = F.coalesce(F.col(SHAPE).startswith("OBJECT<"), F.lit(False))
    frame = frame.withColumn(SHAPE, F.schema_of_variant(event)).withColumn(
        TYPED, F.when(is_object, F.from_json(F.col(text), struct))
    )

    typed = F.col(TYPED)
    event_type = typed.getField(DISCRIMINATOR)
    envelope = compiler.rules(root, typed, struct)
    payload_type = struct[_BRANCHED].dataType
    branches = [
        (
            event_type.isin(list(types)),
            F.col(SHAPE).rlike(pattern) & compiler.rules(payload, typed.getField(_BRANCHED), payload_type),
        )
        for types, pattern, payload in _branch_shapes()
    ]
    by_type = functools.reduce(lambda expr, case: expr.when(*case), branches[1:], F.when(*branches[0]))
    valid = F.coalesce(is_object & typed.isNotNull() & envelope & by_type, F.lit(False))
    frame = frame.withColumns({"_event_is_object": is_object, "_event_valid": valid})
    # Only invalid records pay for reading the discriminator's own JSON type.
    discriminator_kind = F.schema_of_variant(F.try_variant_get(event, f"$.{DISCRIMINATOR}", "variant"))
    declared = root["properties"][DISCRIMINATOR]
    known = F.col("_event_valid") | F.coalesce(
        (discriminator_kind == _SHAPES["string"]) & compiler.rules(declared, event_type, StringType()), F.lit(False)
    )
    return frame.withColumn("_event_type_known", known)
