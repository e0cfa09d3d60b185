"""What the simulator sent and what the API acknowledged, summarised and written as JSON.

An event counts as *acknowledged* when the API answered 2xx for it: the API
promises that Kafka has it then. An event that was sent but never acknowledged
(every try timed out, or the last answer was a 5xx) may or may not be on Kafka:
it is *unknown*, and `make demo` accepts it in the tables at most once. An
event the API refused with a 4xx is *rejected* and must not be anywhere.
"""

import dataclasses
import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from questline_events import derive_event_id
from questline_loadgen.world import Action, Player

FORMAT_VERSION = 1


@dataclasses.dataclass
class PlayerTruth:
    host: str
    client: str
    sent: int = 0
    acknowledged: int = 0
    purchases: int = 0
    spend: int = 0
    guild: str | None = None  # after the last acknowledged join/leave


@dataclasses.dataclass
class GuildTruth:
    joins: int = 0
    leaves: int = 0
    wars_declared: int = 0
    peace_declared: int = 0
    wars_received: int = 0
    peace_received: int = 0


class GroundTruth:
    def __init__(self, run_id: str, seed: int, settings: dict[str, Any]):
        self.run_id = run_id
        self.seed = seed
        self.settings = settings
        self.started_at = time.time()
        self.finished_at: float | None = None
        self.sent: Counter[str] = Counter()
        self.acknowledged: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.sent_by_transport: Counter[str] = Counter()
        self.acknowledged_by_transport: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()  # "transport status" of every try
        self.retries = 0
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.players: dict[str, PlayerTruth] = {}
        self.hosts: dict[str, Counter[str]] = defaultdict(Counter)
        self.guilds: dict[str, GuildTruth] = defaultdict(GuildTruth)
        self.acknowledged_ids: list[str] = []
        self.unknown_ids: list[str] = []
        self.rejections: list[dict[str, Any]] = []  # the first few, to explain them
        self.id_mismatches: list[dict[str, str]] = []
        self.stopped_by: str = "duration"

    # ------------------------------------------------------------ recording
    def add_player(self, player: Player) -> None:
        self.players[player.player_id] = PlayerTruth(host=player.host, client=player.client)

    def record_sent(self, action: Action, transport: str) -> None:
        self.sent[action.event_type] += 1
        self.sent_by_transport[transport] += 1
        self.players[action.player_id].sent += 1

    def record_response(self, transport: str, status: int | str, latency: float, retry: bool) -> None:
        self.responses[f"{transport} {status}"] += 1
        self.retries += retry
        if isinstance(status, int) and status < 300:
            self.latencies[transport].append(latency)

    def record_acknowledged(self, action: Action, transport: str, payload: dict, event_id: str | None) -> None:
        expected = expected_event_id(action)
        if event_id is not None and event_id != expected:
            self.id_mismatches.append({"key": action.key, "expected": expected, "answered": event_id})
        self.acknowledged_ids.append(event_id or expected)
        self.acknowledged[action.event_type] += 1
        self.acknowledged_by_transport[transport] += 1
        player = self.players[action.player_id]
        player.acknowledged += 1
        host = self.hosts[player.host]
        host["acknowledged"] += 1
        if action.event_type.startswith("purchase_"):
            spend = payload.get("price") or 0
            player.purchases += 1
            player.spend += spend
            host["purchases"] += 1
            host["spend"] += spend
        elif action.event_type == "join_guild":
            self.guilds[action.guild].joins += 1
            player.guild = action.guild
        elif action.event_type == "leave_guild":
            self.guilds[action.guild].leaves += 1
            player.guild = None
        elif action.event_type == "declare_war":
            self.guilds[action.guild].wars_declared += 1
            self.guilds[payload["target_guild"]].wars_received += 1
        elif action.event_type == "declare_peace":
            self.guilds[action.guild].peace_declared += 1
            self.guilds[payload["target_guild"]].peace_received += 1

    def record_rejected(self, action: Action, status: int, detail: str) -> None:
        self.rejected[action.event_type] += 1
        if len(self.rejections) < 20:
            self.rejections.append(
                {"key": action.key, "event_type": action.event_type, "status": status, "detail": detail}
            )

    def record_unknown(self, action: Action) -> None:
        self.unknown[action.event_type] += 1
        self.unknown_ids.append(expected_event_id(action))

    # ------------------------------------------------------------ summary
    @property
    def total_sent(self) -> int:
        return sum(self.sent.values())

    @property
    def total_acknowledged(self) -> int:
        return len(self.acknowledged_ids)

    def to_dict(self) -> dict[str, Any]:
        members = Counter(p.guild for p in self.players.values() if p.guild)
        guilds = {g: {**dataclasses.asdict(t), "members_at_end": members[g]} for g, t in sorted(self.guilds.items())}
        players_by_host: Counter[str] = Counter(p.host for p in self.players.values() if p.sent)
        return {
            "format_version": FORMAT_VERSION,
            "run_id": self.run_id,
            "player_id_prefix": f"{self.run_id}-",
            "seed": self.seed,
            "settings": self.settings,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at or time.time()),
            "stopped_by": self.stopped_by,
            "totals": {
                "sent": self.total_sent,
                "acknowledged": self.total_acknowledged,
                "rejected": sum(self.rejected.values()),
                "unknown": len(self.unknown_ids),
                "requests": sum(self.requests.values()),
                "retries": self.retries,
            },
            "by_event_type": {
                t: {
                    "sent": n,
                    "acknowledged": self.acknowledged[t],
                    "rejected": self.rejected[t],
                    "unknown": self.unknown[t],
                }
                for t, n in sorted(self.sent.items())
            },
            "by_transport": {
                t: {
                    "sent": n,
                    "acknowledged": self.acknowledged_by_transport[t],
                    "requests": self.requests[t],
                    **_latency_summary(self.latencies[t]),
                }
                for t, n in sorted(self.sent_by_transport.items())
            },
            "responses": dict(sorted(self.responses.items())),
            "per_player": {p: dataclasses.asdict(t) for p, t in sorted(self.players.items()) if t.sent},
            "per_host": {h: {"players": players_by_host[h], **c} for h, c in sorted(self.hosts.items())},
            "per_guild": guilds,
            "rejections": self.rejections,
            "id_mismatches": self.id_mismatches,
            "acknowledged_event_ids": self.acknowledged_ids,
            "unknown_event_ids": self.unknown_ids,
        }

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        tmp.replace(path)  # never leave a half-written file behind on Ctrl-C
        return path


def expected_event_id(action: Action) -> str:
    """The event id the API derives from the action's player and idempotency key."""
    return derive_event_id(action.player_id, action.key)


def load(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text())
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(
            f"{path}: ground-truth format_version {data.get('format_version')!r}, expected {FORMAT_VERSION}"
        )
    return data


def _latency_summary(latencies: list[float]) -> dict[str, float]:
    if len(latencies) < 2:
        return {}
    cuts = statistics.quantiles(latencies, n=100)
    return {"latency_p50_ms": round(cuts[49] * 1000, 2), "latency_p99_ms": round(cuts[98] * 1000, 2)}


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
