"""The original game's GET routes, unchanged for old clients (curl, Apache Bench).

Plain-text answers and descriptions as the original game had them; the event
carries the Host, User-Agent and Accept headers the original logged, and the
optional query parameters (sword_type, guild_name, target_guild, player_id).
"""

import dataclasses

from flask import Blueprint, Response, request

from questline_api.events import build_event, idempotency_key, request_metadata, validated
from questline_api.publishing import publish
from questline_events import utc_timestamp

bp = Blueprint("legacy", __name__)


@dataclasses.dataclass(frozen=True)
class LegacyAction:
    path: str
    event_type: str
    description: str
    answer: str
    item: str | None = None  # purchases: the item and its fixed strength
    strength: int | None = None
    guild_params: tuple[str, ...] = ()  # query parameters copied into the payload


LEGACY_ACTIONS = (
    LegacyAction("/", "default", "default response", "This is the default response!\n"),
    LegacyAction("/purchase_a_sword", "purchase_sword", "very sharp sword", "Sword Purchased!\n", "sword", 5),
    LegacyAction("/purchase_an_axe", "purchase_axe", "very heavy axe", "Axe Purchased!\n", "axe", 7),
    LegacyAction("/purchase_a_shield", "purchase_shield", "very sturdy shield", "Shield Purchased!\n", "shield", 3),
    LegacyAction("/join_a_guild", "join_guild", "very cool guild", "Joined guild.\n", guild_params=("guild_name",)),
    LegacyAction(
        "/declare_peace", "declare_peace", "peace declared", "Peace declared.\n",
        guild_params=("guild_name", "target_guild"),
    ),
    LegacyAction(
        "/declare_a_war", "declare_war", "war declared", "War declared.\n",
        guild_params=("guild_name", "target_guild"),
    ),
)  # fmt: skip


def _param(name: str) -> str | None:
    # Old clients send `?sword_type=` for "none"; an empty value is no value.
    return request.args.get(name) or None


def _payload(action: LegacyAction) -> tuple[dict, dict[str, str]]:
    """The event payload, and how its fields are named as query parameters."""
    if action.item is not None:
        type_param = f"{action.item}_type"
        payload = {"item": action.item, "item_type": _param(type_param), "strength": action.strength}
        return payload, {"payload.item_type": type_param}
    return {name: _param(name) for name in action.guild_params}, {f"payload.{n}": n for n in action.guild_params}


def _view(action: LegacyAction):
    def view() -> Response:
        payload, param_names = _payload(action)
        event = build_event(
            action.event_type,
            source="legacy",
            player_id=_param("player_id"),
            description=action.description,
            payload=payload,
            request=request_metadata(request.headers),
            timestamp=utc_timestamp(),
            key=idempotency_key(request.headers),
        )
        event = validated(event, rename=param_names)
        # HEAD asks what GET would answer; it must not record a purchase.
        if request.method != "HEAD":
            publish([event])
        return Response(action.answer, mimetype="text/plain")

    view.__name__ = action.event_type
    return view


for _action in LEGACY_ACTIONS:
    bp.add_url_rule(_action.path, view_func=_view(_action), methods=["GET"])
