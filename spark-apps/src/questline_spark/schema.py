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
# How `schema_of_variant` names each JSON type (an object is "OBJECT<field: TYPE, ...>").
_VARIANT_TYPES = {"string": "STRING", "integer": "BIGINT", "null": "VOID", "object": "OBJECT<"}
# The API checks formats with these same loose patterns (questline_events.schema).
_FORMAT_PATTERNS = {"uuid": r"^[0-9a-f-]{36}$", "date-time": r"^\d{4}-"}

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


def _branches(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """anyOf alternatives, resolved; a node without anyOf is its own single branch."""
    return [_resolve(b, root) for b in node.get("anyOf", [node])]


def spark_type(node: dict[str, Any], root: dict[str, Any]) -> DataType:
    """The Spark type a JSON Schema node maps to (null-ness aside)."""
    node = _resolve(node, root)
    kinds = {k for b in _branches(node, root) for k in _types_of(b)} - {"null"}
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

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _column_name(prefix: str, path: str) -> str:
    return prefix + path.removeprefix("$").replace(".", "_")


def typed_value(path: str, data_type: DataType) -> Column:
    """The value at `path` (e.g. `$.request.host`) as `data_type`, from the helper
    columns `with_validity` adds; null when the JSON value is not of that type."""
    return F.col(_column_name("_text" if isinstance(data_type, StringType) else "_number", path))


class _Validator:
    """Compiles schema nodes into boolean Columns over a VARIANT.

    Reading a VARIANT as a string or number costs a Spark Cast object per call, and
    that was the main cost of validation. So each value the schema mentions is read
    once, by its JSON path, into helper columns that every rule shares, each stage
    in its own projection:

      1. `_kind<path>` its JSON type as `schema_of_variant` names it (null when
         missing) and, for objects, `_keys<path>` (null when not an object);
      2. `_text<path>` / `_number<path>` the value as string / bigint, only when
         it is one.

    The VARIANT at a path is never stored in a column of its own: each copy would
    carry the whole event's key dictionary.
    """

    def __init__(self, root: dict[str, Any], event: Column):
        self.root = root
        self.event = event
        self.stages: list[dict[str, Column]] = [{}, {}]

    def _add(self, stage: int, prefix: str, path: str, column: Column) -> Column:
        name = _column_name(prefix, path)
        self.stages[stage].setdefault(name, column)
        return F.col(name)

    def _at(self, path: str, data_type: str) -> Column:
        if not all(_FIELD_NAME.fullmatch(part) for part in path.split(".")[1:]):
            raise UnsupportedSchema(f"property names must be plain identifiers, got {path!r}")
        return F.try_variant_get(self.event, path, data_type)

    def keys(self, path: str) -> Column:
        return self._add(0, "_keys", path, F.map_keys(self._at(path, "map<string,variant>")))

    def kind(self, path: str) -> Column:
        """The JSON type at `path`; null when the path is missing."""
        return self._add(0, "_kind", path, F.schema_of_variant(self._at(path, "variant")))

    def present(self, path: str) -> Column:
        return self.kind(path).isNotNull()

    def text(self, path: str) -> Column:
        read = self._at(path, "string")
        return self._add(1, "_text", path, F.when(self.kind(path) == _VARIANT_TYPES["string"], read))

    def number(self, path: str) -> Column:
        read = self._at(path, "bigint")
        return self._add(1, "_number", path, F.when(self.kind(path) == _VARIANT_TYPES["integer"], read))

    def typed(self, path: str, data_type: DataType) -> Column:
        """Register the typed helper column of a leaf (see `typed_value`)."""
        return self.text(path) if isinstance(data_type, StringType) else self.number(path)

    def check(self, node: dict[str, Any], path: str) -> Column:
        """A boolean Column: the (present) value at `path` satisfies `node`. Never null."""
        node = _resolve(node, self.root)
        _check_keywords(node)
        if "anyOf" in node:
            alternatives = [self.check(b, path) for b in node["anyOf"]]
            rest = {k: v for k, v in node.items() if k != "anyOf"}
            combined = functools.reduce(Column.__or__, alternatives)
            return combined & self.check(rest, path) if set(rest) - _ANNOTATIONS else combined

        conditions: list[Column] = []
        typed = bool({"type", "enum", "const"} & set(node))
        if typed and _types_of(node) == ("object",):
            # The keys are read anyway; schema_of_variant of an object would describe
            # its whole subtree on every row.
            conditions.append(self.keys(path).isNotNull())
        elif typed:
            kind = self.kind(path)
            matches = [
                kind.startswith(_VARIANT_TYPES[k]) if k == "object" else kind == _VARIANT_TYPES[k]
                for k in _types_of(node)
            ]
            conditions.append(functools.reduce(Column.__or__, matches))
        if "enum" in node or "const" in node:
            values = node.get("enum", [node.get("const")])
            strings = [v for v in values if isinstance(v, str)]
            integers = [v for v in values if isinstance(v, int)]
            member = (self.kind(path) == _VARIANT_TYPES["null"]) & F.lit(None in values)
            if strings:
                member |= self.text(path).isin(strings)
            if integers:
                member |= self.number(path).isin(integers)
            conditions.append(F.coalesce(member, F.lit(False)))
        # String/number keywords apply only to values of that JSON type (JSON Schema semantics).
        string_rules = []
        if "pattern" in node:
            string_rules.append(self.text(path).rlike(node["pattern"]))
        if "format" in node:
            string_rules.append(self.text(path).rlike(_FORMAT_PATTERNS[node["format"]]))
        if "minLength" in node:
            string_rules.append(F.char_length(self.text(path)) >= node["minLength"])
        if "maxLength" in node:
            string_rules.append(F.char_length(self.text(path)) <= node["maxLength"])
        if string_rules:
            conditions.append(self.text(path).isNull() | functools.reduce(Column.__and__, string_rules))
        number_rules = []
        if "minimum" in node:
            number_rules.append(self.number(path) >= node["minimum"])
        if "maximum" in node:
            number_rules.append(self.number(path) <= node["maximum"])
        if number_rules:
            conditions.append(self.number(path).isNull() | functools.reduce(Column.__and__, number_rules))
        if {"properties", "required", "additionalProperties"} & set(node):
            conditions.append(self.check_object(node, path))
        if "allOf" in node:
            conditions.extend(self.check_branch(branch, path) for branch in payload_branches(self.root))
        if not conditions:
            return F.lit(True)
        return F.coalesce(functools.reduce(Column.__and__, conditions), F.lit(False))

    def check_object(self, node: dict[str, Any], path: str) -> Column:
        keys = self.keys(path)
        properties = node.get("properties", {})
        conditions = [keys.isNotNull()]
        conditions += [self.present(f"{path}.{name}") for name in node.get("required", [])]
        additional = node.get("additionalProperties", True)
        if additional is False:
            conditions.append(F.size(F.array_except(keys, F.array(*map(F.lit, properties)))) == 0)
        elif additional is not True:
            raise UnsupportedSchema("additionalProperties must be true or false")
        for name, sub in properties.items():
            child = f"{path}.{name}"
            conditions.append(~self.present(child) | self.check(sub, child))
        return functools.reduce(Column.__and__, conditions)

    def check_branch(self, branch: PayloadBranch, path: str) -> Column:
        selected = self.text(f"{path}.{DISCRIMINATOR}").isin(list(branch.event_types))
        payload = f"{path}.payload"
        return ~F.coalesce(selected, F.lit(False)) | ~self.present(payload) | self.check(branch.payload, payload)


def _leaves(struct: StructType, path: str = "$"):
    for field in struct.fields:
        if isinstance(field.dataType, StructType):
            yield from _leaves(field.dataType, f"{path}.{field.name}")
        else:
            yield f"{path}.{field.name}", field.dataType


def with_validity(frame: DataFrame, event: str) -> DataFrame:
    """Add `_event_is_object`, `_event_type_known` and `_event_valid` for the VARIANT column `event`.

    `_event_is_object`: the value is a JSON object (false for invalid JSON, null, arrays, scalars).
    `_event_type_known`: the discriminator is present and one the schema allows.
    `_event_valid`: the whole event satisfies the schema.
    Also adds the helper columns (names start with `_keys`, `_kind`, `_text`,
    `_number`), among them the typed value of every field of `event_struct()`: read
    those with `typed_value`.
    """
    root = load_schema()
    validator = _Validator(root, F.col(event))
    valid = validator.check(root, "$")
    discriminator = f"$.{DISCRIMINATOR}"
    known = validator.present(discriminator) & validator.check(root["properties"][DISCRIMINATOR], discriminator)
    for path, data_type in _leaves(event_struct()):
        validator.typed(path, data_type)
    for stage in validator.stages:
        frame = frame.withColumns(stage)
    return frame.withColumns(
        {"_event_is_object": validator.keys("$").isNotNull(), "_event_type_known": known, "_event_valid": valid}
    )
