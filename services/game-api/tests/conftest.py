import uuid

import pytest
from api_fakes import FakeProducer
from api_stack import Gunicorn, TopicReader

from questline_api.app import create_app
from questline_api.settings import load
from questline_stack.scratch import Scratch
from questline_stack.settings import KAFKA_API


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
def scratch_topic(kafka_stack):
    """A topic of this session only (never the user's `events`), deleted at the end."""
    with Scratch(kafka_stack, "api") as scratch:
        yield scratch.topic


@pytest.fixture(scope="session")
def api_kafka_env(kafka_stack):
    """The API's own Kafka user, as every deployment gives it (it may only write the events topic)."""
    return kafka_stack.kafka_env(KAFKA_API)


@pytest.fixture(scope="session")
def api_url(kafka_bootstrap, api_kafka_env, scratch_topic, tmp_path_factory):
    """The API under gunicorn with several workers, against the stack's Kafka."""
    log = tmp_path_factory.mktemp("game-api") / "gunicorn.log"
    server = Gunicorn(kafka_bootstrap, log, **api_kafka_env, QUESTLINE_EVENTS_TOPIC=scratch_topic).start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def topic(kafka_stack, scratch_topic):
    return TopicReader(kafka_stack, scratch_topic)


@pytest.fixture(scope="session")
def run_id():
    """Player ids of this run start with it, so its tests do not see each other's records."""
    return f"t{uuid.uuid4().hex[:10]}"
