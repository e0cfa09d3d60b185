import copy
import uuid

import pytest

from questline_events import (
    ERASE_PLAYER,
    EVENT_FAMILIES,
    EVENT_TYPES,
    TABLES,
    EventValidationError,
    derive_event_id,
    family_of,
    load_schema,
    new_event_id,
    utc_timestamp,
    validate_event,
)

VALID = {
    "event_id": "2b1f7a52-6a6e-4b1a-9f0e-0a4c2a9a1b11",
    "event_type": "purchase_sword",
    "schema_version": 1,
    "timestamp": "2026-11-27T22:50:00.123456Z",
    "source": "v1",
    "player_id": "arthur",
    "client_event_id": None,
    "description": "purchased a sword",
    "request": {"host": "questline.localtest.me", "user_agent": "curl/8", "accept": "*/*"},
    "payload": {"item": "sword", "item_type": "longsword", "strength": 42, "price": 120},
}


def test_a_valid_purchase_passes():
    validate_event(VALID)


def test_the_schema_lists_exactly_the_event_types_of_the_families():
    assert load_schema()["properties"]["event_type"]["enum"] == [*EVENT_TYPES, ERASE_PLAYER]


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_type",), "purchase_dragon", "event_type"),
        (("schema_version",), 2, "schema_version"),
        (("payload", "strength"), "strong", "payload.strength"),
        (("payload", "item"), "bow", "payload.item"),
        (("player_id",), "bad player id", "player_id"),
        (("timestamp",), "yesterday", "timestamp"),
    ],
)
def test_an_invalid_field_is_named_in_the_error(path, value, field):
    event = copy.deepcopy(VALID)
    target = event
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(EventValidationError) as info:
        validate_event(event)
    assert info.value.field == f"event.{field}" or info.value.field.endswith(field)


def test_a_guild_event_needs_a_guild_name():
    event = {**VALID, "event_type": "join_guild", "payload": {}}
    with pytest.raises(EventValidationError, match="guild_name"):
        validate_event(event)


def test_unknown_envelope_fields_are_refused():
    with pytest.raises(EventValidationError):
        validate_event({**VALID, "admin": True})


def test_same_player_and_key_give_the_same_event_id_and_others_differ():
    a = derive_event_id("arthur", "key-1")
    assert a == derive_event_id("arthur", "key-1")
    assert a != derive_event_id("arthur", "key-2")
    assert a != derive_event_id("merlin", "key-1")
    assert new_event_id() != new_event_id()
    for _ in range(200):  # a real UUID4 in canonical form, like str(uuid.uuid4())
        text = new_event_id()
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4
        assert uuid.UUID(text).variant == uuid.RFC_4122


def test_timestamp_is_utc_with_z_suffix():
    ts = utc_timestamp()
    validate_event({**VALID, "timestamp": ts})
    assert ts.endswith("Z")


def test_families_cover_the_legacy_table_names():
    assert {"purchases", "joins", "declarations"} <= set(EVENT_FAMILIES)
    assert family_of("declare_war") == "declarations"
    assert {"events", "quarantine"} <= set(TABLES)
    with pytest.raises(KeyError):
        family_of("nope")
