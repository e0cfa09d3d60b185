"""The app factory. gunicorn calls it in each worker after fork (see gunicorn_conf)."""

from flask import Flask

from questline_api import auth, legacy, metrics, ops, problems, v1, web
from questline_api import settings as settings_module
from questline_api.publishing import EXTENSION, ApiState, Producer
from questline_api.settings import Settings


def create_app(settings: Settings | None = None, producer: Producer | None = None) -> Flask:
    """A ready app; creates this process's Kafka producer unless one is given (tests)."""
    settings = settings or settings_module.load()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    if producer is None:
        from questline_api.producer import EventProducer

        producer = EventProducer(settings, on_queue_length=metrics.PRODUCER_QUEUE.set)
    app.extensions[EXTENSION] = ApiState(settings=settings, producer=producer)
    problems.init_app(app)
    metrics.init_app(app)
    auth.init_app(app, settings.auth)
    # One blueprint per concern; the web pages (/play, /dashboard) come as another.
    app.register_blueprint(legacy.bp)
    app.register_blueprint(v1.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(web.bp)
    return app


def close_app(app: Flask, timeout: float = 10.0) -> None:
    """Flush this process's producer (gunicorn's worker_exit hook calls this).

    The hook runs for any app under our gunicorn config (bench/ runs others); those have no producer of ours."""
    api = app.extensions.get(EXTENSION)
    if api is not None:
        api.producer.close(timeout)
