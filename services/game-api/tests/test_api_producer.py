from questline_api.producer import EventProducer
from questline_api.settings import load


class _FatalError:
    def fatal(self):
        return True

    def __str__(self):
        return "OUT_OF_ORDER_SEQUENCE_NUMBER"


def test_a_fatal_producer_error_makes_the_worker_not_ready():
    producer = EventProducer(
        load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "QUESTLINE_API_READY_CACHE_SECONDS": "60"})
    )
    try:
        producer._ready, producer._ready_checked_at = True, float("inf")  # as if Kafka had just answered
        assert producer.ready()
        producer._on_error(_FatalError())
        assert not producer.ready()
    finally:
        producer.close(timeout=0)


def test_sending_nothing_returns_at_once():
    producer = EventProducer(load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1"}))
    try:
        assert producer.send([], timeout=5) == []
    finally:
        producer.close(timeout=0)
