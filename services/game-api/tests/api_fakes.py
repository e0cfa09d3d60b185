"""An in-process stand-in for the Kafka producer, for unit tests only.

Integration tests (marker `stack`) use the real Kafka of the local stack.
"""

import orjson


class FakeProducer:
    def __init__(self):
        self.records: list[tuple[bytes | None, bytes]] = []
        self.acknowledge = True  # False: Kafka "does not answer in time"
        self.reachable = True
        self.closed = False

    def send(self, records, timeout):
        if not self.acknowledge:
            return [False] * len(records)
        self.records.extend(records)
        return [True] * len(records)

    def ready(self):
        return self.reachable

    def queue_length(self):
        return 0

    def close(self, timeout=10.0):
        self.closed = True
        return 0

    @property
    def events(self):
        return [orjson.loads(value) for _key, value in self.records]
