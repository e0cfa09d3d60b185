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


class _BatchStub:
    """Stands in for confluent_kafka.Producer: produce_batch queues the even records (and
    reports them delivered at once) and flags the odd ones as not queued, as a full queue would."""

    def __init__(self):
        self.topic = None

    def produce_batch(self, topic, messages):
        self.topic = topic
        for index, message in enumerate(messages):
            if index % 2:
                message["_error"] = "Local: Queue full"
            else:
                message["callback"](None, None)
        return len(messages) - len(messages) // 2

    def poll(self, timeout):
        return 0

    def flush(self, timeout):
        return 0

    def __len__(self):
        return 0


def test_records_produce_batch_could_not_queue_count_as_not_delivered_and_the_rest_as_delivered():
    producer = EventProducer(load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "QUESTLINE_EVENTS_TOPIC": "t-1"}))
    real, producer._producer = producer._producer, _BatchStub()
    try:
        records = [(b"p", b"%d" % i) for i in range(5)]
        assert producer.send(records, timeout=5) == [True, False, True, False, True]
        assert producer._producer.topic == "t-1"
    finally:
        producer.close(timeout=0)
        real.flush(0)
