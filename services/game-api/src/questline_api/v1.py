"""The versioned JSON API: one resource per player action, plus a batch endpoint.

Request bodies are checked against the served OpenAPI document (spec.py), then
turned into events checked against the event schema (events.py); only events
that pass both reach Kafka. Answers carry the event id(s).
"""

from typing import Any

import orjson
from flask import Blueprint, Response, g, request

from questline_api import spec
from questline_api.auth import authorize_players
from questline_api.events import build_event, client_key, idempotency_key, request_metadata, validated
from questline_api.problems import Problem, invalid
from questline_api.publishing import publish, state
from questline_events import DATABASE, ERASE_PLAYER, ERASURE_AUDIT, TRINO_CATALOG, utc_timestamp

bp = Blueprint("v1", __name__, url_prefix="/v1")

# Fields a batch item may carry; the server adds the rest of the envelope.
BATCH_ITEM_FIELDS = frozenset({"event_type", "player_id", "client_event_id", "client_time", "description", "payload"})


def _json_body() -> Any:
    mimetype = request.mimetype
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise Problem(415, f"Content-Type must be application/json, not {request.content_type or 'missing'!r}")
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"The body is not valid JSON: {exc}") from None


def _accepted(body: dict[str, Any]) -> Response:
    return Response(orjson.dumps(body), status=202, mimetype="application/json")


def _single(event_type: str, *, player_id, description, payload, body_key, rename) -> Response:
    event = build_event(
        event_type,
        source="v1",
        player_id=player_id,
        description=description,
        payload=payload,
        request=request_metadata(request.headers),
        timestamp=utc_timestamp(),
        key=client_key(body_key, idempotency_key(request.headers)),
    )
    authorize_players([player_id])
    publish([validated(event, rename=rename)])
    return _accepted({"event_id": event["event_id"], "event_type": event_type})


@bp.post("/players/<player_id>/purchases")
def purchase_item(player_id: str) -> Response:
    body = spec.validate_body("PurchaseRequest", _json_body())
    item = body["item"]
    payload = {"item": item, "item_type": body.get("item_type"), "strength": body["strength"]}
    if body.get("price") is not None:
        payload["price"] = body["price"]
    return _single(
        f"purchase_{item}",
        player_id=player_id,
        description=body.get("description", f"{item} purchased"),
        payload=payload,
        body_key=body.get("client_event_id"),
        rename={"payload.item_type": "item_type", "payload.strength": "strength", "payload.price": "price"},
    )


@bp.delete("/players/<player_id>")
def erase_player(player_id: str) -> Response:
    """Record the request to erase every row of the player: an `erase_player` event on Kafka.

    The same route to Spark as every event (exactly once, durable once Kafka
    acknowledged it); the maintenance job does the erasure and writes the audit.
    Allowed for the player itself and for a service token (auth.authorize_players).
    """
    principal = g.get("questline_principal")
    if principal is None:
        requested_by = "anonymous"  # auth is off (development): as open as every other route
    else:
        requested_by = "player" if principal.role == "player" else f"service:{principal.subject}"
    event = build_event(
        ERASE_PLAYER,
        source="v1",
        player_id=player_id,
        description="erasure requested",
        payload={"requested_by": requested_by},
        request=request_metadata(request.headers),
        timestamp=utc_timestamp(),
        key=idempotency_key(request.headers),
    )
    authorize_players([player_id])
    publish([validated(event)])
    audit = f'{TRINO_CATALOG}."{DATABASE}".{ERASURE_AUDIT}'
    return _accepted(
        {
            "erasure_id": event["event_id"],
            "player_id": player_id,
            "status": "accepted",
            "requested_at": event["timestamp"],
            "completion": (
                "the maintenance job removes every row of the player from every table, and the old files "
                "after its grace period: by default within 5 hours for past days and within 30 hours for "
                "today's rows (a day is rewritten once it is over); events the player sends later are "
                "removed by each later run (docs/spark.md, Erasure)"
            ),
            "follow": f"SELECT * FROM {audit} WHERE erasure_id = '{event['event_id']}'",
        }
    )


@bp.post("/players/<player_id>/guild-memberships")
def join_guild(player_id: str) -> Response:
    body = spec.validate_body("GuildMembershipRequest", _json_body())
    return _single(
        "join_guild",
        player_id=player_id,
        description=body.get("description", "joined guild"),
        payload={"guild_name": body["guild_name"]},
        body_key=body.get("client_event_id"),
        rename={"payload.guild_name": "guild_name"},
    )


@bp.delete("/players/<player_id>/guild-memberships/<path:guild_name>")
def leave_guild(player_id: str, guild_name: str) -> Response:
    return _single(
        "leave_guild",
        player_id=player_id,
        description="left guild",
        payload={"guild_name": guild_name},
        body_key=None,
        rename={"payload.guild_name": "guild_name"},
    )


def _declare(event_type: str, guild_name: str, default_description: str) -> Response:
    body = spec.validate_body("DeclarationRequest", _json_body())
    return _single(
        event_type,
        player_id=body.get("player_id"),
        description=body.get("description", default_description),
        payload={"guild_name": guild_name, "target_guild": body["target_guild"]},
        body_key=body.get("client_event_id"),
        rename={"payload.guild_name": "guild_name", "payload.target_guild": "target_guild"},
    )


@bp.post("/guilds/<path:guild_name>/wars")
def declare_war(guild_name: str) -> Response:
    return _declare("declare_war", guild_name, "war declared")


@bp.post("/guilds/<path:guild_name>/peace")
def declare_peace(guild_name: str) -> Response:
    return _declare("declare_peace", guild_name, "peace declared")


@bp.post("/events:batch")
def post_event_batch() -> Response:
    """All-or-nothing validation, then one result per item (see the OpenAPI document)."""
    body = _json_body()
    limit = state().settings.batch_max_events
    if not isinstance(body, dict) or not isinstance(body.get("events"), list) or set(body) != {"events"}:
        raise invalid("events", "the body must be an object with exactly one field, events: a list of events")
    items = body["events"]
    if not 0 < len(items) <= limit:
        raise invalid("events", f"must hold 1 to {limit} events, not {len(items)}", status=413 if items else 422)
    header_key = idempotency_key(request.headers)
    common = {"request": request_metadata(request.headers), "timestamp": utc_timestamp()}
    events = [_batch_event(index, item, header_key, common) for index, item in enumerate(items)]
    authorize_players(e["player_id"] for e in events)
    publish(events, per_item_results=True)
    results = [{"index": i, "event_id": e["event_id"], "event_type": e["event_type"]} for i, e in enumerate(events)]
    return _accepted({"accepted": len(events), "results": results})


def _batch_event(index: int, item: Any, header_key: str | None, common: dict[str, Any]) -> dict[str, Any]:
    # The item's fields map one to one onto the envelope, so the event schema
    # alone checks them (one validation per event keeps batches fast).
    where = f"events[{index}]"
    if not isinstance(item, dict):
        raise invalid(where, "must be an object")
    unknown = item.keys() - BATCH_ITEM_FIELDS
    if unknown:
        raise invalid(where, f"must not contain {sorted(unknown)}; allowed fields: {sorted(BATCH_ITEM_FIELDS)}")
    if item.get("event_type") == ERASE_PLAYER:
        raise invalid(f"{where}.event_type", "erase_player is not a game event; use DELETE /v1/players/{player_id}")
    player_id = item.get("player_id")
    key = item.get("client_event_id")
    if key is None and header_key is not None:
        key = f"{header_key}#{index}"
    event = build_event(
        item.get("event_type"),
        source="v1",
        player_id=player_id,
        description=item.get("description", ""),
        payload=item.get("payload"),
        request=common["request"],
        timestamp=common["timestamp"],
        key=key,
        client_time=item.get("client_time"),
    )
    return validated(event, prefix=f"{where}.")


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return Response(spec.openapi_json(), mimetype="application/json")
