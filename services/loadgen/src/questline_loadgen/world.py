"""The simulated game world: items, guilds, players and what a player does next.

Everything random comes from `random.Random` instances seeded from the run's
seed, so the same seed yields the same players, hosts, clients and action
plans. Only the guild war map is shared between players, so which wars are
declared also depends on how sessions interleave.
"""

import dataclasses
import random
from collections.abc import Iterator

# item -> (kinds of that item, base price in gold). Strength 0..1000 scales the price.
ITEMS: dict[str, tuple[tuple[str, ...], int]] = {
    "sword": (("longsword", "katana", "broadsword", "scimitar", "rapier", "claymore"), 120),
    "axe": (("battle_axe", "hatchet", "bearded_axe", "double_axe"), 90),
    "shield": (("kite_shield", "buckler", "tower_shield", "heater_shield"), 70),
    "knife": (("dagger", "dirk", "stiletto"), 30),
    "horse": (("destrier", "palfrey", "courser", "rouncey"), 400),
}
# How often a purchase is of each item, and how popular each kind is within an item
# (earlier kinds are more popular), so "most popular item" has a clear answer.
ITEM_WEIGHTS = {"sword": 35, "shield": 20, "axe": 15, "knife": 15, "horse": 15}

GUILDS: tuple[str, ...] = (
    "Knights of the Round Table",
    "Order of the Dragon",
    "Brotherhood of Steel",
    "Wardens of the North",
    "Silver Hand",
    "Iron Legion",
    "Company of the Grey",
    "Sons of the Forest",
)

# Internet providers of the original game's Apache Bench runs (Host: user1.comcast.com).
PROVIDERS = ("comcast.com", "att.com", "verizon.net", "spectrum.net", "cox.net")

# What a player does, and how often, when every action is possible.
ACTION_WEIGHTS = {
    "visit": 10,
    "purchase": 55,
    "join_guild": 14,
    "leave_guild": 4,
    "declare_war": 7,
    "declare_peace": 10,
}

# How a player's game client talks to the API.
CLIENT_KINDS = ("legacy", "v1", "mobile")
CLIENT_WEIGHTS = (30, 40, 30)
USER_AGENTS = {
    "legacy": "ApacheBench/2.3",
    "v1": "questline-web/2.4 (+questline_loadgen)",
    "mobile": "questline-mobile/3.1 (Android 15; questline_loadgen)",
}


@dataclasses.dataclass(frozen=True)
class Action:
    """One player action: becomes exactly one event if the API acknowledges it."""

    event_type: str
    player_id: str
    key: str  # the client's idempotency key: same key, same event_id
    payload: dict
    description: str

    @property
    def guild(self) -> str | None:
        return self.payload.get("guild_name")

    @property
    def spend(self) -> int:
        return self.payload.get("price") or 0


@dataclasses.dataclass
class Player:
    index: int
    player_id: str
    host: str
    client: str  # one of CLIENT_KINDS
    guild: str | None = None
    sessions: int = 0
    actions: int = 0

    @property
    def user_agent(self) -> str:
        return USER_AGENTS[self.client]


class World:
    """The shared state of the simulated game: players and which guilds are at war."""

    def __init__(self, run_id: str, seed: int, players: int):
        self.run_id = run_id
        self.seed = seed
        rng = random.Random(f"{seed}:players")
        self.players = [
            Player(
                index=i,
                player_id=f"{run_id}-p{i:05d}",
                host=f"user{i}.{rng.choice(PROVIDERS)}",
                client=rng.choices(CLIENT_KINDS, CLIENT_WEIGHTS)[0],
            )
            for i in range(players)
        ]
        self.wars: set[frozenset[str]] = set()

    def session_rng(self, player: Player) -> random.Random:
        return random.Random(f"{self.seed}:{player.index}:{player.sessions}")

    def session(self, player: Player, rng: random.Random) -> Iterator[Action]:
        """One play session: a visit, then a few actions, chosen as the world stands."""
        player.sessions += 1
        yield self._action(player, "visit", {}, "default response")
        for _ in range(rng.randint(2, 14)):
            yield self.next_action(player, rng)

    def next_action(self, player: Player, rng: random.Random) -> Action:
        possible = {kind: w for kind, w in ACTION_WEIGHTS.items() if self._possible(player, kind)}
        kind = rng.choices(list(possible), list(possible.values()))[0]
        if kind == "visit":
            return self._action(player, "visit", {}, "default response")
        if kind == "purchase":
            return self._purchase(player, rng)
        if kind == "join_guild":
            player.guild = rng.choice(GUILDS)
            return self._action(player, "join_guild", {"guild_name": player.guild}, "joined guild")
        if kind == "leave_guild":
            left, player.guild = player.guild, None
            return self._action(player, "leave_guild", {"guild_name": left}, "left guild")
        enemies = self._enemies(player.guild)
        if kind == "declare_war":
            target = rng.choice([g for g in GUILDS if g != player.guild and g not in enemies])
            self.wars.add(frozenset((player.guild, target)))
            return self._declaration(player, "declare_war", target, "war declared")
        target = rng.choice(sorted(enemies))
        self.wars.discard(frozenset((player.guild, target)))
        return self._declaration(player, "declare_peace", target, "peace declared")

    def _possible(self, player: Player, kind: str) -> bool:
        if kind == "join_guild":
            return player.guild is None
        if kind == "leave_guild":
            return player.guild is not None
        if kind == "declare_war":
            return player.guild is not None and len(self._enemies(player.guild)) < len(GUILDS) - 1
        if kind == "declare_peace":
            return player.guild is not None and bool(self._enemies(player.guild))
        return True

    def _enemies(self, guild: str | None) -> set[str]:
        return {g for pair in self.wars if guild in pair for g in pair if g != guild}

    def _purchase(self, player: Player, rng: random.Random) -> Action:
        item = rng.choices(list(ITEM_WEIGHTS), list(ITEM_WEIGHTS.values()))[0]
        kinds, base_price = ITEMS[item]
        item_type = rng.choices(kinds, [len(kinds) - i for i in range(len(kinds))])[0]
        strength = rng.randint(1, 1000)
        price = round(base_price * (1 + strength / 250))
        payload = {"item": item, "item_type": item_type, "strength": strength, "price": price}
        return self._action(player, f"purchase_{item}", payload, f"{item_type.replace('_', ' ')} purchased")

    def _declaration(self, player: Player, event_type: str, target: str, description: str) -> Action:
        return self._action(player, event_type, {"guild_name": player.guild, "target_guild": target}, description)

    def _action(self, player: Player, kind: str, payload: dict, description: str) -> Action:
        player.actions += 1
        event_type = "default" if kind == "visit" else kind
        key = f"{player.player_id}-{player.actions:06d}"
        return Action(event_type, player.player_id, key, payload, description)
