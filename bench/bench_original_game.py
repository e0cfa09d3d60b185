"""The original-style game app: a baseline of bench_api.py (no __main__, so run_all.py skips it).

What the original game did, in our own code: Flask, the legacy GET routes (the table
of questline_api.legacy), every action logged to Kafka with kafka-python's
`producer.send` and never a wait for the broker, the event being the action plus
the request's headers, serialised with the standard json module. Its answers say
nothing about whether Kafka has the event; ours only answer after Kafka acknowledged.

The producer is kafka-python's KafkaProducer with its defaults (as the original
constructed it), made in each gunicorn worker after fork by the factory.
"""

import json
import os
import random

from flask import Flask, request
from kafka import KafkaProducer

from questline_api.legacy import LEGACY_ACTIONS
from questline_settings.kafka import MECHANISM, kafka_credentials


def _strength() -> str:
    # The original sent a purchase's strength as a string.
    return str(min(10, max(0, int(random.normalvariate(5, 4)))))


def create_app() -> Flask:
    app = Flask(__name__)
    credentials = kafka_credentials()  # the stack's user, as bench_api.py sets it
    sasl = (
        {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": MECHANISM,
            "sasl_plain_username": credentials.username,
            "sasl_plain_password": credentials.password,
        }
        if credentials
        else {}
    )
    producer = KafkaProducer(bootstrap_servers=os.environ["KAFKA_BOOTSTRAP_SERVERS"].split(","), **sasl)
    topic = os.environ["QUESTLINE_EVENTS_TOPIC"]
    app.extensions["original_producer"] = producer

    def log_to_kafka(event: dict) -> None:
        event.update(request.headers)
        producer.send(topic, json.dumps(event).encode())

    for action in LEGACY_ACTIONS:

        def view(action=action) -> str:
            event = {"event_type": action.event_type}
            if action.description is not None:
                event["description"] = action.description
            if action.item is not None:
                event["strength"] = _strength()
            log_to_kafka(event)
            return action.answer

        app.add_url_rule(action.path, endpoint=action.event_type, view_func=view)

    @app.get("/hello")  # bench_api.py waits for this before loading the app
    def hello() -> str:
        return "hello\n"

    return app
