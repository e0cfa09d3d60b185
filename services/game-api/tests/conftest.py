import uuid

import pytest
from api_fakes import FakeProducer
from api_stack import Gunicorn, TopicReader

from questline_api.app import create_app
from questline_api.settings import load


@pytest.fixture
def settings():
    return load({"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "QUESTLINE_API_BATCH_MAX_EVENTS": "50"})


@pytest.fixture
def producer():
    return FakeProducer()


@pytest.fixture
def app(settings, producer):
    return create_app(settings, producer=producer)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_stack):
    """The stack's Kafka, started by the repository's `kafka_stack` fixture (questline-stack up kafka)."""
    return kafka_stack.kafka_bootstrap


@pytest.fixture(scope="session")
def api_url(kafka_bootstrap, tmp_path_factory):
    """The API under gunicorn with several workers, against the stack's Kafka."""
    server = Gunicorn(kafka_bootstrap, tmp_path_factory.mktemp("game-api") / "gunicorn.log").start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def topic(kafka_bootstrap):
    reader = TopicReader(kafka_bootstrap)
    yield reader
    reader.close()


@pytest.fixture(scope="session")
def run_id():
    """Player ids of this run start with it, so runs sharing the topic do not see each other."""
    return f"t{uuid.uuid4().hex[:10]}"
