import pytest
from api_fakes import FakeProducer

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
