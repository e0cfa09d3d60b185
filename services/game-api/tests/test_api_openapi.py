"""The served OpenAPI document: valid 3.1, complete, and equal to the event schema where it mirrors it."""

import pytest
from openapi_spec_validator import validate

from questline_api.spec import openapi
from questline_api.v1 import BATCH_ITEM_FIELDS
from questline_events import EVENT_TYPES, load_schema


def _schemas():
    return openapi()["components"]["schemas"]


def _resolve(node):
    """Follow local $refs and anyOf-with-null wrappers down to the plain schema."""
    while True:
        if "$ref" in node:
            node = _schemas()[node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            node = next(n for n in node["anyOf"] if n != {"type": "null"})
        else:
            return node


def _event_def(name):
    return load_schema()["$defs"][name]


def test_document_is_valid_openapi_3_1():
    validate(openapi())


def test_served_document_is_the_packaged_one(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    assert response.json == openapi()


def test_every_route_of_the_app_is_documented(app):
    documented = {path.replace("{", "<").replace("}", ">") for path in openapi()["paths"]}
    # The web pages (blueprint `web`: /play, /dashboard) are HTML for people, not part of the JSON API.
    served = {
        rule.rule.replace("<path:", "<")
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.startswith("web.")
    }
    assert served == documented


def test_event_types_match_the_event_schema():
    assert tuple(_schemas()["EventType"]["enum"]) == EVENT_TYPES


@pytest.mark.parametrize(
    ("spec_payload", "event_def"),
    [
        ("PurchasePayload", "purchase"),
        ("GuildMembershipPayload", "guild_membership"),
        ("DeclarationPayload", "declaration"),
    ],
)
def test_payload_schemas_mirror_the_event_schema(spec_payload, event_def):
    spec, event = _schemas()[spec_payload], _event_def(event_def)
    assert spec["required"] == event["required"]
    assert spec["properties"].keys() == event["properties"].keys()
    for name, prop in event["properties"].items():
        mine = _resolve(spec["properties"][name])
        theirs = prop
        if "anyOf" in theirs:
            theirs = next(n for n in theirs["anyOf"] if n != {"type": "null"})
        if "$ref" in theirs:
            theirs = _event_def(theirs["$ref"].rsplit("/", 1)[-1])
        assert {k: v for k, v in mine.items() if k != "description"} == {
            k: v for k, v in theirs.items() if k != "description"
        }, name


def test_player_id_and_name_mirror_the_event_schema():
    player_id = {k: v for k, v in load_schema()["properties"]["player_id"].items() if k not in ("type", "description")}
    assert {k: v for k, v in _schemas()["PlayerId"].items() if k != "type"} == player_id
    assert _schemas()["Name"] == _event_def("name")


def test_batch_item_fields_are_the_documented_ones():
    assert set(_schemas()["BatchEvent"]["properties"]) == BATCH_ITEM_FIELDS
