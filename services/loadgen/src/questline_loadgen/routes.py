"""How an action becomes an HTTP request: the legacy GET routes, /v1 single, /v1 batch.

The paths and bodies follow the game API's OpenAPI document (GET /v1/openapi.json).
Each request carries the action's idempotency key, so a retry maps to the same
event_id (`questline_events.derive_event_id(player_id, key)`).
"""

import dataclasses
from typing import Any
from urllib.parse import quote

from questline_loadgen.world import Action, Player

# Legacy route per event type; knives, horses and leaving a guild have none.
LEGACY_PATHS = {
    "default": "/",
    "purchase_sword": "/purchase_a_sword",
    "purchase_axe": "/purchase_an_axe",
    "purchase_shield": "/purchase_a_shield",
    "join_guild": "/join_a_guild",
    "declare_peace": "/declare_peace",
    "declare_war": "/declare_a_war",
}
# Legacy purchases carry no strength or price from the client: the API draws the strength as the
# original game did (questline_api.legacy.original_strength).
LEGACY_PURCHASES = frozenset({"purchase_sword", "purchase_axe", "purchase_shield"})

BATCH_PATH = "/v1/events:batch"


@dataclasses.dataclass(frozen=True)
class Request:
    method: str
    path: str
    transport: str  # legacy | v1 | v1-batch
    actions: tuple[Action, ...]
    params: dict[str, str] | None = None
    json: Any = None
    idempotency_key: str | None = None


def transport_for(player: Player, action: Action) -> str:
    """Which API an action goes through, given the player's client."""
    if player.client == "legacy" and action.event_type in LEGACY_PATHS:
        return "legacy"
    if player.client == "mobile" or action.event_type == "default":
        # Visits are page-view telemetry for the web and mobile clients: batch endpoint.
        return "v1-batch"
    return "v1"


def recorded_payload(action: Action, transport: str) -> dict:
    """The payload the API will put in the event for this action and route."""
    if transport != "legacy" or action.event_type not in LEGACY_PURCHASES:
        return action.payload
    # The strength is the API's random draw: not known to the client, so not part of the truth.
    return {"item": action.payload["item"], "item_type": action.payload["item_type"]}


def legacy_request(action: Action) -> Request:
    params = {"player_id": action.player_id}
    if action.event_type in LEGACY_PURCHASES:
        params[f"{action.payload['item']}_type"] = action.payload["item_type"]
    else:
        params.update(action.payload)
    return Request(
        "GET", LEGACY_PATHS[action.event_type], "legacy", (action,), params=params, idempotency_key=action.key
    )


def single_request(action: Action) -> Request:
    player = quote(action.player_id, safe="")
    payload = action.payload
    body: dict[str, Any] = {"description": action.description}
    if action.event_type.startswith("purchase_"):
        method, path = "POST", f"/v1/players/{player}/purchases"
        body.update(payload)
    elif action.event_type == "join_guild":
        method, path = "POST", f"/v1/players/{player}/guild-memberships"
        body["guild_name"] = payload["guild_name"]
    elif action.event_type == "leave_guild":
        method, path, body = "DELETE", f"/v1/players/{player}/guild-memberships/{quote(action.guild, safe='')}", None
    elif action.event_type in ("declare_war", "declare_peace"):
        resource = "wars" if action.event_type == "declare_war" else "peace"
        method, path = "POST", f"/v1/guilds/{quote(action.guild, safe='')}/{resource}"
        body.update(player_id=action.player_id, target_guild=payload["target_guild"])
    else:
        raise ValueError(f"/v1 has no single-event route for {action.event_type}; use the batch endpoint")
    return Request(method, path, "v1", (action,), json=body, idempotency_key=action.key)


def batch_request(actions: list[tuple[Action, str]]) -> Request:
    """One POST of (action, client_time) pairs; each item carries its own key."""
    items = [
        {
            "event_type": action.event_type,
            "player_id": action.player_id,
            "client_event_id": action.key,
            "client_time": client_time,
            "description": action.description,
            "payload": action.payload,
        }
        for action, client_time in actions
    ]
    return Request("POST", BATCH_PATH, "v1-batch", tuple(a for a, _ in actions), json={"events": items})


def request_for(action: Action, transport: str) -> Request:
    if transport == "legacy":
        return legacy_request(action)
    return single_request(action)
