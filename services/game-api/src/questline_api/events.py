"""Turn an accepted request into events of the one schema (questline_events).

Every event leaves through `validated`, which applies questline_events'
validate_event and turns its complaint into a 422 that names the field in the
client's terms (a query parameter, a path segment, a body field).
"""

import re
from collections.abc import Mapping
from typing import Any

from questline_api.problems import Problem, invalid
from questline_events import SCHEMA_VERSION, EventValidationError, derive_event_id, new_event_id, validate_event

# The schema bounds each request header field to 1024 characters; longer values
# are informational only, so they are clipped rather than refused.
_MAX_HEADER_CHARS = 1024
MAX_IDEMPOTENCY_KEY_CHARS = 100
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


def request_metadata(headers: Mapping[str, str]) -> dict[str, str | None]:
    """The request fields the original game logged with every event."""
    return {
        "host": _clip(headers.get("Host")),
        "user_agent": _clip(headers.get("User-Agent")),
        "accept": _clip(headers.get("Accept")),
    }


def _clip(value: str | None) -> str | None:
    return value[:_MAX_HEADER_CHARS] if value is not None else None


def idempotency_key(headers: Mapping[str, str]) -> str | None:
    key = headers.get("Idempotency-Key")
    if key is None:
        return None
    if not (0 < len(key) <= MAX_IDEMPOTENCY_KEY_CHARS and _PRINTABLE_ASCII.match(key)):
        reason = f"must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable ASCII characters without spaces"
        raise invalid("Idempotency-Key", reason, status=400)
    return key


def client_key(body_key: str | None, header_key: str | None) -> str | None:
    """The client's idempotency key: the body's client_event_id or the header, not two different ones."""
    if body_key is not None and header_key is not None and body_key != header_key:
        raise invalid("client_event_id", "differs from the Idempotency-Key header; send one key or the same in both")
    return body_key if body_key is not None else header_key


def event_id_for(player_id: str | None, key: str | None) -> str:
    """Same player + same client key -> same event id, so Spark drops the retry."""
    return derive_event_id(player_id, key) if key is not None else new_event_id()


def build_event(
    event_type: str,
    *,
    source: str,
    player_id: str | None,
    description: str | None,
    payload: dict[str, Any],
    request: dict[str, str | None],
    timestamp: str,
    key: str | None = None,
    client_time: str | None = None,
) -> dict[str, Any]:
    """The one place an event envelope is made; `validated` checks it against the schema.

    Batch items arrive unchecked, so any field may still have a wrong type here: a player_id
    that is not a string gets no derived id (the schema then refuses it by name)."""
    event = {
        "event_id": event_id_for(player_id if isinstance(player_id, str) else None, key),
        "event_type": event_type,
        "schema_version": SCHEMA_VERSION,
        "timestamp": timestamp,
        "source": source,
        "player_id": player_id,
        "description": description,
        "request": request,
        "payload": payload,
    }
    if key is not None:
        event["client_event_id"] = key
    if client_time is not None:
        event["client_time"] = client_time
    return event


def validated(event: dict[str, Any], rename: Mapping[str, str] | None = None, prefix: str = "") -> dict[str, Any]:
    """`event` if it matches the schema, else a 422 naming the field as the client knows it.

    The event is returned with integral floats written as integers: JSON Schema
    counts `5.0` as an integer, but Spark types the JSON text, and would
    quarantine an acknowledged `"strength": 5.0`.
    """
    try:
        validate_event(event)
    except EventValidationError as exc:
        raise _problem_for(exc, rename or {}, prefix) from None
    # The schema admits numbers only inside the payload (the envelope is strings, nulls
    # and the server's own schema_version), so only the payload needs the walk.
    event["payload"] = _integers_as_ints(event["payload"])
    return event


def _integers_as_ints(value: Any) -> Any:
    if type(value) is float and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integers_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers_as_ints(item) for item in value]
    return value


def _problem_for(exc: EventValidationError, rename: Mapping[str, str], prefix: str) -> Problem:
    field = exc.field
    reason = exc.reason[len(field) :].strip() if exc.reason.startswith(field) else exc.reason
    if field == "event":  # the event as a whole, e.g. a missing field: name the item
        return invalid(prefix.rstrip(".") or "body", reason)
    return invalid(prefix + rename.get(field, field), reason)
