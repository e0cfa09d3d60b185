"""Prometheus metrics of the API.

Under gunicorn every worker is a process, so prometheus_client runs in
multiprocess mode: gunicorn_conf points PROMETHEUS_MULTIPROC_DIR at an empty
directory before the workers fork, and /metrics adds up the files of all workers.
Without that variable (unit tests, flask run) the ordinary registry is used.
"""

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "questline_api_requests_total",
    "HTTP requests answered, by route template, method and status",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "questline_api_request_duration_seconds",
    "Time from request to answer, by route template",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
EVENTS_PRODUCED = Counter(
    "questline_api_events_produced_total",
    "Events Kafka acknowledged, by event type",
    ["event_type"],
)
PRODUCE_ERRORS = Counter(
    "questline_api_produce_errors_total",
    "Events Kafka did not acknowledge in time or refused (answered 503)",
)
PRODUCER_QUEUE = Gauge(
    "questline_api_producer_queue_length",
    "Records waiting in the workers' producer queues (messages and delivery reports)",
    multiprocess_mode="livesum",
)
AUTH_REFUSALS = Counter(
    "questline_api_auth_refusals_total",
    "Requests refused for their credential (401/403, or a legacy route turned off), by reason",
    ["reason"],
)

# Label for requests that matched no route: keeps 404 scans from creating series.
_UNMATCHED = "unmatched"


def _start_timer() -> None:
    g.questline_started = time.perf_counter()


def _observe(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule is not None else _UNMATCHED
    started = g.get("questline_started")
    if started is not None:
        LATENCY.labels(route).observe(time.perf_counter() - started)
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    return response


def exposition() -> Response:
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
