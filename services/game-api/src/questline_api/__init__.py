"""questline game API: Flask + gunicorn, one schema-validated Kafka event per accepted action.

Run with `gunicorn -c python:questline_api.gunicorn_conf` (the config names the app
factory, questline_api.app:create_app). Importing this package imports nothing else:
the gunicorn master must not load prometheus_client or librdkafka before it forks.
"""
