"""The original game's GET routes, exactly as old clients and old analysts know them.

Answers, event types and descriptions are the original game's, letter for letter
(including its one copy-paste slip, see LEGACY_ACTIONS); a purchase's strength is
drawn as the original drew it. The event carries the Host, User-Agent and Accept
headers the original logged, and the optional query parameters (sword_type,
guild_name, target_guild, player_id).
"""

import dataclasses
import random

from flask import Blueprint, Response, request

from questline_api.events import build_event, idempotency_key, request_metadata, validated
from questline_api.publishing import publish
from questline_events import utc_timestamp

bp = Blueprint("legacy", __name__)


@dataclasses.dataclass(frozen=True)
class LegacyAction:
    path: str
    event_type: str
    description: str | None  # the original logged none for the default route
    answer: str
    item: str | None = None  # purchases only
    guild_params: tuple[str, ...] = ()  # query parameters copied into the payload


LEGACY_ACTIONS = (
    LegacyAction("/", "default", None, "This is the default response!\n"),
    LegacyAction("/purchase_a_sword", "purchase_sword", "large sword", "Sword Purchased!\n", "sword"),
    LegacyAction("/purchase_an_axe", "purchase_axe", "large axe", "Axe Purchased!\n", "axe"),
    # "Axe", not "Shield": the original's copy-paste slip, kept because old clients compare answers
    # byte for byte and a fix would break them; /v1 clients get a JSON answer instead.
    LegacyAction("/purchase_a_shield", "purchase_shield", "heavy shield", "Axe Purchased!\n", "shield"),
    LegacyAction("/join_a_guild", "join_guild", "cool guild", "Guild Joined!\n", guild_params=("guild_name",)),
    LegacyAction(
        "/declare_peace", "declare_peace", "lastful peace", "Peace declared!\n",
        guild_params=("guild_name", "target_guild"),
    ),
    LegacyAction(
        "/declare_a_war", "declare_war", "destructive war", "War declared!\n",
        guild_params=("guild_name", "target_guild"),
    ),
)  # fmt: skip


# The original drew every purchase's strength as int(random.normalvariate(5, 4)) clipped to 0..10:
# about 16 % zeros, 10 % tens, mean about 4.6. Old reports average it, so the distribution is kept.
STRENGTH_MEAN, STRENGTH_SIGMA, STRENGTH_MIN, STRENGTH_MAX = 5, 4, 0, 10


def original_strength() -> int:
    # The module's generator: Python reseeds it in every forked gunicorn worker, a Random() of our own
    # would repeat the same sequence in each of them.
    return min(STRENGTH_MAX, max(STRENGTH_MIN, int(random.normalvariate(STRENGTH_MEAN, STRENGTH_SIGMA))))


def _param(name: str) -> str | None:
    # Old clients send `?sword_type=` for "none"; an empty value is no value.
    return request.args.get(name) or None


def _payload(action: LegacyAction) -> tuple[dict, dict[str, str]]:
    """The event payload, and how its fields are named as query parameters."""
    if action.item is not None:
        type_param = f"{action.item}_type"
        payload = {"item": action.item, "item_type": _param(type_param), "strength": original_strength()}
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
