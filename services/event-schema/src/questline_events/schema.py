"""Load and apply the JSON Schema of an event; derive event ids."""

import datetime as _dt
import functools
import json
import uuid
from importlib import resources
from typing import Any

import fastjsonschema

# Fixed namespace: the same (player, key) must map to the same event_id forever,
# in every API worker and every release, so retries can be dropped downstream.
_EVENT_ID_NAMESPACE = uuid.UUID("6f1c1c2e-8d7a-4f0e-9a53-3a1f0c2b7e11")


class EventValidationError(ValueError):
    """An event does not match the schema. `field` names where, `reason` says why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@functools.cache
def load_schema() -> dict[str, Any]:
    """The event JSON Schema as a dict (the file shipped in this package)."""
    text = resources.files("questline_events").joinpath("event.schema.json").read_text("utf-8")
    return json.loads(text)


@functools.cache
def _compiled():
    return fastjsonschema.compile(load_schema(), formats={"uuid": r"^[0-9a-f-]{36}$", "date-time": r"^\d{4}-.*"})


def validate_event(event: dict[str, Any]) -> None:
    """Raise EventValidationError naming the offending field if `event` is invalid."""
    try:
        _compiled()(event)
    except fastjsonschema.JsonSchemaValueException as exc:
        field = (exc.name or "data").replace("data.", "", 1).replace("data", "event", 1)
        raise EventValidationError(field, exc.message.replace(exc.name or "", field, 1)) from None


def derive_event_id(player_id: str | None, idempotency_key: str) -> str:
    """The event id for a client-supplied key: same player + same key -> same id."""
    return str(uuid.uuid5(_EVENT_ID_NAMESPACE, f"{player_id or ''}\x1f{idempotency_key}"))


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_timestamp(now: _dt.datetime | None = None) -> str:
    """Server time in the schema's form: 2026-11-27T22:50:00.123456Z."""
    now = now or _dt.datetime.now(_dt.UTC)
    return now.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
