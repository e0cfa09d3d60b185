"""Start, check and stop etcd and kube-apiserver as local processes bound to loopback."""

import json
import shutil
import ssl
import urllib.request

from questline_apiserver import pki
from questline_apiserver.build import exclusive, log
from questline_apiserver.settings import Settings
from questline_devkit import process

ETCD = "etcd"
KUBE_APISERVER = "kube-apiserver"


def _etcd_argv(s: Settings) -> list[str]:
    peer = f"http://{s.host}:{s.etcd_peer_port}"
    return [
        str(s.etcd_binary),
        "--name=questline",
        f"--data-dir={s.etcd_data_dir}",
        # Plain HTTP is acceptable only because both ends are on loopback.
        f"--listen-client-urls={s.etcd_url}",
        f"--advertise-client-urls={s.etcd_url}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=questline={peer}",
        "--log-level=warn",
    ]


def _apiserver_argv(s: Settings) -> list[str]:
    p = s.pki_dir
    return [
        str(s.kube_apiserver_binary),
        f"--advertise-address={s.host}",
        f"--bind-address={s.host}",
        f"--secure-port={s.apiserver_port}",
        f"--etcd-servers={s.etcd_url}",
        f"--tls-cert-file={p / 'apiserver.crt'}",
        f"--tls-private-key-file={p / 'apiserver.key'}",
        f"--client-ca-file={p / 'ca.crt'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={p / 'service-account.pub'}",
        f"--service-account-signing-key-file={p / 'service-account.key'}",
        f"--service-cluster-ip-range={pki.SERVICE_CLUSTER_IP_RANGE}",
        # RBAC as in every real cluster, so the chart's Roles and bindings are checked for real.
        "--authorization-mode=RBAC",
        # The `kubernetes` Service's endpoints would point at 127.0.0.1, which the
        # Endpoints validation forbids; nothing here needs them.
        "--endpoint-reconciler-type=none",
        "--profiling=false",
    ]


def _ssl_context(s: Settings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(s.pki_dir / "ca.crt"))
    context.load_cert_chain(s.pki_dir / "admin.crt", s.pki_dir / "admin.key")
    return context


def etcd_healthy(s: Settings) -> bool:
    with urllib.request.urlopen(f"{s.etcd_url}/health", timeout=2) as response:
        return json.load(response).get("health") == "true"


def apiserver_ready(s: Settings) -> bool:
    with urllib.request.urlopen(f"{s.server_url}/readyz", timeout=2, context=_ssl_context(s)) as response:
        return response.read() == b"ok"


def up(s: Settings) -> None:
    """Start what is not running and wait until both are ready (idempotent)."""
    with exclusive(s.state_dir / "lock"):
        _up(s)


def _up(s: Settings) -> None:
    missing = [str(b) for b in (s.etcd_binary, s.kube_apiserver_binary) if not b.exists()]
    if missing:
        raise process.StartError(f"not built yet: {', '.join(missing)}; run `make apiserver-build` first")
    pki.ensure(s)
    for name, argv, probe in (
        (ETCD, _etcd_argv(s), etcd_healthy),
        (KUBE_APISERVER, _apiserver_argv(s), apiserver_ready),
    ):
        if process.running_pid(s, name) is None:
            for port in (s.etcd_client_port, s.etcd_peer_port) if name == ETCD else (s.apiserver_port,):
                if process.port_open(s.host, port):
                    raise process.StartError(
                        f"{s.host}:{port} is taken by another process; free it or set the matching "
                        "QUESTLINE_ETCD_*_PORT / QUESTLINE_APISERVER_PORT"
                    )
            log(f"starting {name}; log: {process.log_file(s, name)}")
            process.spawn(s, name, argv)
        process.wait_until(s, name, lambda probe=probe: probe(s), timeout=s.start_timeout)
    log(f"ready: {s.server_url}  KUBECONFIG={s.kubeconfig}")


def down(s: Settings, *, purge: bool = False) -> None:
    with exclusive(s.state_dir / "lock"):
        for name in (KUBE_APISERVER, ETCD):
            process.stop(s, name)
    if purge:
        log(f"removing {s.state_dir}")
        shutil.rmtree(s.state_dir)


def status(s: Settings) -> dict[str, dict]:
    """Per process: pid, resident memory in MiB, ready or not."""
    report = {}
    for name, probe in ((ETCD, etcd_healthy), (KUBE_APISERVER, apiserver_ready)):
        pid = process.running_pid(s, name)
        try:
            ready = pid is not None and probe(s)
        except OSError:
            ready = False
        report[name] = {"pid": pid, "rss_mib": round(process.rss_mib(pid)) if pid else 0, "ready": ready}
    return report
