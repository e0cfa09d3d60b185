"""gunicorn configuration: `gunicorn -c python:questline_api.gunicorn_conf`.

Every value comes from questline_api.settings (environment variables). The app
is loaded in each worker after fork (no preload), which creates that worker's
Kafka producer; worker_exit flushes it.
"""

import os
import shutil
import socket
import tempfile
from pathlib import Path

from gunicorn import glogging as _glogging
from gunicorn import sock as _gunicorn_sock
from gunicorn import util as _gunicorn_util

from questline_api import settings as _settings_module
from questline_api.logs import logging_config
from questline_api.problems import PROBLEM_JSON, Problem, problem_document

_settings = _settings_module.load()

# prometheus_client picks multiprocess mode when it is first imported, which
# happens in the workers; the directory must exist and be empty before they fork.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="questline-api-metrics-")
_metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
_metrics_dir.mkdir(parents=True, exist_ok=True)

wsgi_app = "questline_api.app:create_app()"
preload_app = False
bind = _settings.bind
workers = _settings.workers
threads = _settings.threads
reuse_port = _settings.reuse_port
worker_class = "gthread"
timeout = _settings.worker_timeout
graceful_timeout = _settings.graceful_timeout
keepalive = _settings.keepalive
limit_request_field_size = _settings.max_header_bytes
logconfig_dict = logging_config(_settings.log_level)
accesslog = "-" if _settings.access_log else None


class AccessLogAsConfigured(_glogging.Logger):
    """gunicorn logs every request whenever a logconfig_dict is given, whatever `accesslog`
    says: QUESTLINE_API_ACCESS_LOG=false was ignored, at about 8 % of a worker's time."""

    def access(self, resp, req, environ, request_time):
        if _settings.access_log:
            super().access(resp, req, environ, request_time)


logger_class = AccessLogAsConfigured
proc_name = "questline-api"


def write_problem(sock, status: int, reason: str, message: str) -> None:
    """gunicorn's answer to a request it refuses before the app runs (request line
    or headers too large, malformed HTTP): the API's problem document, not HTML."""
    body = problem_document(Problem(status, message or reason))
    head = f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_JSON}\r\n"
    _gunicorn_util.write_nonblock(sock, f"{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body)


# gunicorn writes those answers through this one function (gunicorn.workers.base).
_gunicorn_util.write_error = write_problem


def on_starting(server):
    # Files of a previous run would be added to this run's counters.
    for stale in _metrics_dir.glob("*.db"):
        stale.unlink()
    if server.cfg.reuse_port:
        for address in server.cfg.bind:  # the command line's -b may override ours
            refuse_taken_port(address)


def refuse_taken_port(address: str) -> None:
    """With SO_REUSEPORT the workers would quietly share a port another server of the same
    user already listens on (a second `make api`); a plain bind fails then, so try one."""
    if address.startswith(("unix:", "fd://")):
        return
    host, _, port_text = address.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As gunicorn binds: a port in TIME_WAIT after a restart is free, a listening one is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, int(port_text)))
        except OSError as exc:
            raise SystemExit(f"cannot listen on {address}: {exc.strerror} (QUESTLINE_API_BIND)") from None


# With reuse_port gunicorn binds each worker's socket as soon as the worker forks. The kernel
# then hands that socket its share of new connections while the worker is still loading the
# app and connecting its producer (seconds on a busy machine: the simulator saw p99 4.6 s), so
# the worker listens only once it can answer.
def post_fork(server, worker):
    if server.cfg.reuse_port:
        for listener in worker.sockets:
            listener.close()
        worker.sockets = []


def post_worker_init(worker):
    if worker.cfg.reuse_port:
        worker.sockets = _gunicorn_sock.create_sockets(worker.cfg, worker.log)
        for listener in worker.sockets:
            _gunicorn_util.close_on_exec(listener)


def worker_exit(server, worker):
    app = getattr(worker, "wsgi", None)
    if app is not None:
        from questline_api.app import close_app

        close_app(app, timeout=_settings.graceful_timeout)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
