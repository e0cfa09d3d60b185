"""Hand validated events to this worker's producer and wait for Kafka's acknowledgement."""

import dataclasses
from collections import Counter
from typing import Any, Protocol

import orjson
from flask import current_app

from questline_api import metrics
from questline_api.problems import Problem
from questline_api.settings import Settings
from questline_events import MAX_EVENT_BYTES

EXTENSION = "questline_api"


class Producer(Protocol):
    def send(self, records: list[tuple[bytes | None, bytes]], timeout: float) -> list[bool]: ...
    def ready(self) -> bool: ...
    def queue_length(self) -> int: ...
    def close(self, timeout: float = 10.0) -> int: ...


@dataclasses.dataclass
class ApiState:
    settings: Settings
    producer: Producer


def state() -> ApiState:
    return current_app.extensions[EXTENSION]


def publish(events: list[dict[str, Any]], *, per_item_results: bool = False) -> None:
    """Produce `events` (already validated); return only once Kafka acknowledged all of them.

    A record that is too large is refused before anything is produced (413). If
    Kafka does not acknowledge every record within the produce timeout the
    answer is 503 + Retry-After; the client retries with the same keys.
    """
    api = state()
    records = []
    for index, event in enumerate(events):
        value = orjson.dumps(event)
        if len(value) > MAX_EVENT_BYTES:
            where = f"events[{index}]" if per_item_results else "body"
            raise Problem(413, f"{where}: the event is {len(value)} bytes, more than {MAX_EVENT_BYTES}")
        player_id = event["player_id"]
        records.append((player_id.encode() if player_id is not None else None, value))
    delivered = api.producer.send(records, api.settings.produce_timeout)
    failed = delivered.count(False)
    for event_type, count in Counter(e["event_type"] for e, ok in zip(events, delivered, strict=True) if ok).items():
        metrics.EVENTS_PRODUCED.labels(event_type).inc(count)
    if failed:
        metrics.PRODUCE_ERRORS.inc(failed)
        extra = {}
        if per_item_results:
            extra["results"] = [
                {"index": i, "event_id": e["event_id"], "delivered": ok}
                for i, (e, ok) in enumerate(zip(events, delivered, strict=True))
            ]
        raise Problem(
            503,
            f"Kafka did not acknowledge {failed} of {len(events)} event(s) in time; "
            "retry with the same Idempotency-Key or client_event_id to avoid duplicates",
            headers={"Retry-After": str(api.settings.retry_after)},
            **extra,
        )
