"""How gunicorn spreads connections over the workers, against real gunicorn and Kafka.

A request holds its thread while it waits for Kafka, so a worker that accepted most of the
connections queues their requests while the other idles (the profile of issue 21 saw 0.57
and 0.00 core). Each worker listens on a SO_REUSEPORT socket of its own for that reason."""

import http.client
import re
import subprocess

import pytest
from api_stack import BIN, Gunicorn

pytestmark = [pytest.mark.stack, pytest.mark.timeout(300)]

CONNECTIONS = 64


def connections_per_pid(port: int) -> dict[int, int]:
    """Established server-side connections on `port`, counted by the process holding them (ss)."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], check=True, capture_output=True, text=True
    ).stdout
    counts: dict[int, int] = {}
    for pid in re.findall(r"pid=(\d+)", out):
        counts[int(pid)] = counts.get(int(pid), 0) + 1
    return counts


def test_connections_spread_over_every_worker(kafka_bootstrap, api_kafka_env, scratch_topic, tmp_path):
    log = tmp_path / "gunicorn.log"
    server = Gunicorn(kafka_bootstrap, log, workers=2, **api_kafka_env, QUESTLINE_EVENTS_TOPIC=scratch_topic)
    server.start()
    clients = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=10) for _ in range(CONNECTIONS)]
    try:
        for client in clients:  # all at once, as a load client or an ingress pool opens them
            client.connect()
        for client in clients:  # kept alive: each stays with the worker that accepted it
            client.request("GET", "/healthz")
            assert client.getresponse().read() is not None
        counts = connections_per_pid(server.port)
        print("connections per worker:", counts)
        workers = subprocess.run(["pgrep", "-P", str(server.process.pid)], capture_output=True, text=True).stdout
        assert sum(counts.values()) == CONNECTIONS, counts
        assert set(counts) == {int(pid) for pid in workers.split()}, (counts, workers)
        # The kernel hashes connections over the sockets: 64 over 2 leave fewer than 16 on one
        # worker with a chance of 4 in 100,000; on one shared socket one worker took 41 to 64 of 64.
        assert min(counts.values()) >= CONNECTIONS // 4, counts
    finally:
        for client in clients:
            client.close()
        server.stop()


def test_a_taken_port_is_refused_with_a_clear_error(kafka_bootstrap, api_kafka_env, scratch_topic, tmp_path):
    """SO_REUSEPORT would let a second server share the port quietly; it must refuse instead."""
    first = Gunicorn(
        kafka_bootstrap, tmp_path / "first.log", workers=1, **api_kafka_env, QUESTLINE_EVENTS_TOPIC=scratch_topic
    )
    first.start()
    try:
        # Not Gunicorn.start: its readiness probe would get the first server's answer.
        second = Gunicorn(kafka_bootstrap, tmp_path / "second.log", port=first.port, **api_kafka_env)
        refused = subprocess.run(
            [BIN / "gunicorn", "-c", "python:questline_api.gunicorn_conf"],
            env=second.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode != 0
        assert f"cannot listen on 127.0.0.1:{first.port}: Address already in use (QUESTLINE_API_BIND)" in refused.stderr
        assert first.process.poll() is None
    finally:
        first.stop()
