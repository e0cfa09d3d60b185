"""The game API in-process for unit tests: the real Flask app, a recording producer
instead of Kafka, and an httpx transport that hands requests to the app. Auth is on, with
the dev login, as in the local stack and kind."""

import tempfile
from pathlib import Path

import httpx
import orjson

from questline_api.app import create_app
from questline_api.auth import new_key
from questline_api.settings import load
from questline_loadgen.credentials import LOGIN_PATH


class RecordingProducer:
    """Acknowledges every record and keeps it; `fail_next` answers "not in time" that many times."""

    def __init__(self):
        self.records: list[tuple[bytes | None, bytes]] = []
        self.fail_next = 0

    def send(self, records, timeout):
        if self.fail_next:
            self.fail_next -= 1
            return [False] * len(records)
        self.records.extend(records)
        return [True] * len(records)

    def ready(self):
        return True

    def queue_length(self):
        return 0

    def close(self, timeout=10.0):
        return 0

    @property
    def events(self) -> list[dict]:
        return [orjson.loads(value) for _key, value in self.records]


class InProcessApi:
    def __init__(self, auth: bool = True):
        self.producer = RecordingProducer()
        env = {"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "QUESTLINE_API_RETRY_AFTER": "1"}
        if auth:
            keys = Path(tempfile.mkdtemp(prefix="questline-loadgen-keys-"))
            new_key(keys, "k1")
            env |= {"QUESTLINE_API_AUTH": "on", "QUESTLINE_API_AUTH_KEYS_DIR": str(keys)}
            env |= {"QUESTLINE_API_AUTH_DEV_LOGIN": "on"}
        self.client = create_app(load(env), producer=self.producer).test_client()
        self.requests: list[httpx.Request] = []  # every request but the logins
        self.logins = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == LOGIN_PATH:
            self.logins += 1
        else:
            self.requests.append(request)
        answer = self.client.open(
            request.url.raw_path.decode(),
            method=request.method,
            headers=list(request.headers.items()),
            data=request.content,
        )
        return httpx.Response(answer.status_code, headers=list(answer.headers.items()), content=answer.data)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
