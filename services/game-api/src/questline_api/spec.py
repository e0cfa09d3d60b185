"""The OpenAPI document shipped in this package, and request validation from it.

The /v1 request bodies are validated with the schemas of the very document the
API serves, so the documentation cannot drift from what the server accepts.
"""

import functools
from importlib import resources
from typing import Any

import fastjsonschema
import orjson
import yaml

from questline_api.problems import invalid

# Same loose format checks as questline_events: the patterns carry the real rules.
_FORMATS = {"uuid": r"^[0-9a-f-]{36}$", "date-time": r"^\d{4}-.*"}


@functools.cache
def openapi() -> dict[str, Any]:
    text = resources.files("questline_api").joinpath("openapi.yaml").read_text("utf-8")
    return yaml.safe_load(text)


@functools.cache
def openapi_json() -> bytes:
    return orjson.dumps(openapi())


@functools.cache
def _validator(schema_name: str):
    document = {"$ref": f"#/components/schemas/{schema_name}", "components": openapi()["components"]}
    return fastjsonschema.compile(document, formats=_FORMATS)


def validate_body(schema_name: str, body: Any) -> dict[str, Any]:
    """`body` if it matches components/schemas/<schema_name>, else a 422 naming the field."""
    try:
        return _validator(schema_name)(body)
    except fastjsonschema.JsonSchemaValueException as exc:
        path = exc.path[1:] if exc.path else []
        field = ".".join(str(p) for p in path) or "body"
        message = exc.message
        prefix = exc.name or "data"
        reason = message[len(prefix) :].strip() if message.startswith(prefix) else message
        raise invalid(field, reason) from None
