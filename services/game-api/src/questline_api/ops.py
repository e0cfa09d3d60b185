"""Operations endpoints: liveness, readiness (Kafka reachable), Prometheus metrics."""

from flask import Blueprint, Response, jsonify

from questline_api import metrics
from questline_api.problems import Problem
from questline_api.publishing import state

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz() -> Response:
    api = state()
    if not api.producer.ready():
        raise Problem(
            503,
            f"Kafka at {api.settings.kafka_bootstrap_servers} does not answer for the events topic",
            headers={"Retry-After": str(api.settings.retry_after)},
        )
    return jsonify(status="ready")


@bp.get("/metrics")
def prometheus_metrics() -> Response:
    metrics.PRODUCER_QUEUE.set(state().producer.queue_length())
    return metrics.exposition()
