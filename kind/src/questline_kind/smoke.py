"""The smoke test of the stack deployed on kind, shared by `make smoke` and tests/e2e.

1. Wait until every workload in the namespace is ready (Kubernetes API).
2. Post a known mix of player actions through the ingress, as one new player.
3. Poll Trino until each table holds exactly that player's events, or fail with the difference.

The tables are those of the database and catalog the release gave the API (the chart's
global.database and global.catalog), read from its Deployment: one chart value, not a
second setting of the smoke test's own that could disagree.
"""

import base64
import collections
import contextlib
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import httpx
import trino

from questline_events.names import DATABASE, EVENT_FAMILIES, TOPIC_EVENTS, TRINO_CATALOG, family_of
from questline_kind import kube, tools
from questline_kind.settings import Settings
from questline_settings import kafka_topic, sql_name
from questline_settings.trino import TrinoLogin


class SmokeFailure(AssertionError):
    pass


# Tables with one event family each; `visits` is left out: the API's v1 routes never produce it.
FAMILY_TABLES = tuple(f for f in EVENT_FAMILIES if f != "visits")


class Names(NamedTuple):
    """The names the components share: the events topic, the schema of the tables, the catalog."""

    topic: str
    database: str
    catalog: str


def names_from_env(env: Mapping[str, str]) -> Names:
    """The names in an environment as every settings module reads them (their defaults if unset)."""
    return Names(
        topic=kafka_topic("QUESTLINE_EVENTS_TOPIC", TOPIC_EVENTS, env=env),
        database=sql_name("QUESTLINE_DATABASE", DATABASE, env=env),
        catalog=sql_name("QUESTLINE_TRINO_CATALOG", TRINO_CATALOG, env=env),
    )


def deployed_names(api, namespace: str) -> Names:
    """The names the release gave the API (the chart's global.topic, database and catalog)."""
    return names_from_env(kube.container_env(api, namespace, "api"))


class Action(NamedTuple):
    event_type: str  # the event the API must produce for this request
    method: str
    path: str
    body: dict | None


def actions(player_id: str) -> list[Action]:
    """What the smoke test sends as one player: every event family at least once."""
    guild = f"guild-{player_id}"
    sword = {"item": "sword", "item_type": "katana", "strength": 7, "price": 120}
    horse = {"item": "horse", "item_type": "destrier", "strength": 3, "price": 800}
    war = {"target_guild": "Black Knights", "player_id": player_id}
    return [
        Action("purchase_sword", "POST", f"/v1/players/{player_id}/purchases", sword),
        Action("purchase_horse", "POST", f"/v1/players/{player_id}/purchases", horse),
        Action("join_guild", "POST", f"/v1/players/{player_id}/guild-memberships", {"guild_name": guild}),
        Action("leave_guild", "DELETE", f"/v1/players/{player_id}/guild-memberships/{guild}", None),
        Action("declare_war", "POST", f"/v1/guilds/{guild}/wars", war),
    ]


def expected_counts(player_id: str) -> dict[str, collections.Counter]:
    """event_type counts per table once every action has landed: all in `events`, each in its family."""
    events = collections.Counter(action.event_type for action in actions(player_id))
    counts = {"events": events}
    for family in FAMILY_TABLES:
        counts[family] = collections.Counter({t: n for t, n in events.items() if family_of(t) == family})
    return counts


def player_token(http: httpx.Client, player_id: str) -> dict[str, str]:
    """The player's token from the dev login values-kind turns on, as /play and the simulator get
    theirs; a release without it (404) is sent no credential (an API that wants one answers 401)."""
    response = http.post("/v1/dev/login", json={"player_id": player_id})
    if response.status_code == 404:
        return {}
    if response.status_code != 200:
        raise SmokeFailure(f"POST /v1/dev/login answered {response.status_code}: {response.text}")
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def post_traffic(settings: Settings, player_id: str) -> None:
    # The Host header picks the Ingress rule, so the URL may be an address (no DNS needed for the host).
    headers = {"Host": settings.ingress_host}
    with httpx.Client(base_url=settings.ingress_url, headers=headers, timeout=30) as http:
        credential = player_token(http, player_id)
        for action in actions(player_id):
            # A fresh key per action: retries of the smoke test itself never collapse two actions.
            headers = {"Idempotency-Key": str(uuid.uuid4()), **credential}
            response = http.request(action.method, action.path, json=action.body, headers=headers)
            if response.status_code != 202:
                where = f"{action.method} {settings.ingress_url}{action.path} (Host: {settings.ingress_host})"
                raise SmokeFailure(f"{where} answered {response.status_code}: {response.text}")


@contextlib.contextmanager
def trino_url(settings: Settings) -> Iterator[str]:
    """QUESTLINE_TRINO_URL if set (e.g. skaffold's port-forward), else a kubectl port-forward of the
    Trino service to a free local port for the duration of the block."""
    if settings.trino_url:
        yield settings.trino_url
        return
    kubectl = tools.find(settings, "kubectl")
    if not kubectl:
        raise SmokeFailure("kubectl not found and QUESTLINE_TRINO_URL not set: no way to reach Trino")
    forward = subprocess.Popen(
        [kubectl, "--context", settings.kube_context, "--namespace", settings.namespace,
         "port-forward", f"service/{settings.trino_service}", ":8443"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        line = forward.stdout.readline() if forward.stdout else ""
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not match:
            raise SmokeFailure(f"kubectl port-forward to service/{settings.trino_service} failed: {line.strip()}")
        yield f"https://127.0.0.1:{match.group(1)}"  # the certificate names 127.0.0.1 for this
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def deployed_login(api, settings: Settings) -> TrinoLogin:
    """The smoke test's Trino login: the password and CA files its settings name, else the `smoke`
    user's password and the CA from the Secrets the release generated (`<release>-trino-auth`,
    `<release>-trino-tls`; the release is named after the namespace)."""
    if settings.trino_login.password is not None:
        return settings.trino_login
    from kubernetes import client

    core = client.CoreV1Api(api)
    auth = core.read_namespaced_secret(f"{settings.namespace}-trino-auth", settings.namespace).data
    tls = core.read_namespaced_secret(f"{settings.namespace}-trino-tls", settings.namespace).data
    ca_file = Path(tempfile.mkdtemp(prefix="questline-smoke-")) / "ca.crt"
    ca_file.write_bytes(base64.b64decode(tls["ca.crt"]))
    password = base64.b64decode(auth[f"password-{settings.trino_login.user}"]).decode()
    return TrinoLogin(settings.trino_login.user, password, settings.trino_login.ca_file or ca_file)


def table_counts(url: str, login: TrinoLogin, names: Names, player_id: str) -> dict[str, collections.Counter]:
    """event_type counts of one player in `events` and in each family table."""
    connection = login.connect(url, catalog=names.catalog, schema=names.database)
    with contextlib.closing(connection):
        cursor = connection.cursor()
        counts = {}
        for table in ("events", *FAMILY_TABLES):
            cursor.execute(
                f"SELECT event_type, count(*) FROM {table} WHERE player_id = ? GROUP BY event_type", [player_id]
            )
            counts[table] = collections.Counter(dict(cursor.fetchall()))
        return counts


class SmokeResult(NamedTuple):
    player_id: str
    counts: dict[str, collections.Counter]  # what Trino reported, per table


def run(settings: Settings) -> SmokeResult:
    """The whole smoke flow; raises SmokeFailure unless Trino reports exactly the posted actions."""
    api = kube.api_client(settings)
    kube.wait_until_ready(api, settings.namespace, timeout=settings.timeout)
    names = deployed_names(api, settings.namespace)
    login = deployed_login(api, settings)
    player_id = f"smoke-{uuid.uuid4().hex[:12]}"
    post_traffic(settings, player_id)
    want = expected_counts(player_id)
    deadline = time.monotonic() + settings.timeout
    with trino_url(settings) as url:
        while True:
            try:
                got = table_counts(url, login, names, player_id)
            except trino.exceptions.TrinoQueryError as exc:  # tables may not be registered yet
                got = {"error": collections.Counter({str(exc.message): 1})}
            if got == want:
                print(f"[smoke] {player_id}: Trino counts match {dict(want['events'])}", flush=True)
                return SmokeResult(player_id, got)
            if time.monotonic() > deadline:
                raise SmokeFailure(f"after {settings.timeout:.0f}s Trino reports {got}, expected {want} ({player_id})")
            time.sleep(5)
