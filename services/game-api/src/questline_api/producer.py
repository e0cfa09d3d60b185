"""The per-worker Kafka producer: send records and wait for Kafka's delivery reports.

Created in the app factory, i.e. in each gunicorn worker after fork (librdkafka's
threads do not survive a fork). One background thread serves delivery reports so
that any number of request threads can wait on their own records at once.
"""

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence

import confluent_kafka

from questline_api.settings import Settings

log = logging.getLogger(__name__)

Record = tuple[bytes | None, bytes]  # (key, value)


class _Pending:
    """Delivery state of the records of one request.

    The poller thread reports, and the request thread for records that were never
    queued; the first report of a record counts (a record given up as unqueued stays
    failed: the client retries with the same key). `done` is a lock taken at creation
    and released by the last report, the cheapest one-shot wake-up threading offers
    (an Event is a Condition and a fresh lock per wait)."""

    __slots__ = ("delivered", "done", "errors", "lock", "remaining")

    def __init__(self, count: int):
        self.delivered: list[bool | None] = [None] * count  # None: not reported yet
        self.errors: list[str] = []
        self.remaining = count
        self.lock = threading.Lock()
        self.done = threading.Lock()
        self.done.acquire()

    def report(self, index: int, err, _msg=None) -> None:
        with self.lock:
            if self.delivered[index] is not None:
                return
            self.delivered[index] = err is None
            if err is not None:
                self.errors.append(str(err))
            self.remaining -= 1
            if self.remaining == 0:
                self.done.release()

    def wait(self, timeout: float) -> bool:
        return self.done.acquire(timeout=timeout)


class EventProducer:
    """confluent-kafka producer: idempotent, acks=all, keyed records to the events topic."""

    def __init__(self, settings: Settings, on_queue_length: Callable[[int], None] | None = None):
        self._settings = settings
        self._on_queue_length = on_queue_length
        self._producer = confluent_kafka.Producer(
            {
                "bootstrap.servers": settings.kafka_bootstrap_servers,
                **(settings.kafka_credentials.librdkafka() if settings.kafka_credentials else {}),
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": settings.kafka_linger_ms,
                "compression.type": settings.kafka_compression,
                # Give up on a record when its request gives up, so a timed-out
                # record does not linger in the queue and land long after the 503.
                "message.timeout.ms": max(1, int(settings.produce_timeout * 1000)),
                "client.id": "questline-api",
                "error_cb": self._on_error,
                # librdkafka's own log lines go through Python logging, i.e. out as JSON.
                "logger": logging.getLogger("librdkafka"),
            }
        )
        self._fatal_error: str | None = None
        self._ready_lock = threading.Lock()
        self._ready_checked_at = float("-inf")
        self._ready = False
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._serve_delivery_reports, name="kafka-delivery-reports", daemon=True)
        self._poller.start()

    def send(self, records: Sequence[Record], timeout: float) -> list[bool]:
        """Produce `records` and wait up to `timeout` s; which ones Kafka acknowledged."""
        if not records:
            return []
        pending = _Pending(len(records))
        # One produce_batch call per request, not one produce per record: confluent-kafka holds
        # the GIL inside produce, and each call looks the topic up under the client's lock, which
        # librdkafka's own threads take too; py-spy found a third of the workers' GIL time there.
        messages = [
            {"key": key, "value": value, "callback": functools.partial(pending.report, index)}
            for index, (key, value) in enumerate(records)
        ]
        try:
            queued = self._producer.produce_batch(self._settings.events_topic, messages)
        except (BufferError, confluent_kafka.KafkaException) as exc:
            queued, unqueued = 0, [(index, exc) for index in range(len(records))]
        else:
            unqueued = [(index, m["_error"]) for index, m in enumerate(messages) if "_error" in m]
        if len(unqueued) != len(records) - queued:
            log.error("produce_batch queued %d of %d records but flagged %d", queued, len(records), len(unqueued))
        for index, err in unqueued:  # never queued, so never reported: count them as failed now
            pending.report(index, err)
        if not pending.wait(timeout):
            log.warning(
                "kafka did not acknowledge %d of %d records within %.2fs", pending.remaining, len(records), timeout
            )
        elif pending.errors:
            log.warning("kafka refused %d of %d records: %s", len(pending.errors), len(records), pending.errors[0])
        return [ok is True for ok in pending.delivered]

    def ready(self) -> bool:
        """Kafka answers a metadata request for the events topic (cached briefly)."""
        if self._fatal_error is not None:
            return False
        with self._ready_lock:
            now = time.monotonic()
            if now - self._ready_checked_at >= self._settings.ready_cache_seconds:
                self._ready = self._topic_reachable(timeout=min(2.0, self._settings.produce_timeout))
                self._ready_checked_at = now
            return self._ready

    def _topic_reachable(self, timeout: float) -> bool:
        try:
            metadata = self._producer.list_topics(self._settings.events_topic, timeout=timeout)
        except confluent_kafka.KafkaException as exc:
            log.warning("kafka not reachable: %s", exc)
            return False
        topic = metadata.topics.get(self._settings.events_topic)
        return topic is not None and topic.error is None and bool(topic.partitions)

    def queue_length(self) -> int:
        return len(self._producer)

    def close(self, timeout: float = 10.0) -> int:
        """Stop serving reports and flush; the number of records still unsent."""
        self._stop.set()
        self._poller.join(timeout=1.0)
        left = self._producer.flush(timeout)
        if left:
            log.error("%d records were not delivered before the worker exited", left)
        return left

    def _serve_delivery_reports(self) -> None:
        reported_at = 0.0
        while not self._stop.is_set():
            self._producer.poll(0.1)
            now = time.monotonic()
            if self._on_queue_length is not None and now - reported_at >= 1.0:
                self._on_queue_length(len(self._producer))
                reported_at = now

    def _on_error(self, err) -> None:
        if err.fatal():
            # The idempotent producer cannot go on (e.g. a broken sequence): every
            # later record would fail, so this worker stops being ready.
            self._fatal_error = str(err)
            log.error("fatal kafka producer error, worker no longer ready: %s", err)
        else:
            log.warning("kafka client error: %s", err)
