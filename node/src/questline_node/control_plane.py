"""etcd and kube-apiserver: their command lines, probes, and the API-server-alone mode (loopback, no root)."""

import json
import shutil
import ssl
import urllib.request

from questline_devkit import process
from questline_node import pki
from questline_node.build import exclusive, log
from questline_node.settings import ApiserverSettings, NodeSettings

ETCD = "etcd"
KUBE_APISERVER = "kube-apiserver"


def etcd_argv(s: ApiserverSettings) -> list[str]:
    peer = f"http://{s.etcd_host}:{s.etcd_peer_port}"
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


def apiserver_argv(s: ApiserverSettings) -> list[str]:
    p = s.pki_dir
    argv = [
        str(s.kube_apiserver_binary),
        f"--advertise-address={s.advertise_address}",
        f"--bind-address={s.host}",
        f"--secure-port={s.apiserver_port}",
        f"--etcd-servers={s.etcd_url}",
        f"--tls-cert-file={p / 'apiserver.crt'}",
        f"--tls-private-key-file={p / 'apiserver.key'}",
        f"--client-ca-file={p / 'ca.crt'}",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={p / 'service-account.pub'}",
        f"--service-account-signing-key-file={p / 'service-account.key'}",
        f"--service-cluster-ip-range={s.service_cidr}",
        "--profiling=false",
    ]
    if isinstance(s, NodeSettings):
        return [
            *argv,
            # Node: a kubelet may only touch its own node and pods; RBAC for everyone else.
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NodeRestriction",
            "--allow-privileged=true",
            f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
            f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
            f"--kubelet-certificate-authority={p / 'ca.crt'}",
            "--kubelet-preferred-address-types=InternalIP",
        ]
    return [
        *argv,
        # RBAC as in every real cluster, so the chart's Roles and bindings are checked for real.
        "--authorization-mode=RBAC",
        # The `kubernetes` Service's endpoints would point at 127.0.0.1, which the
        # Endpoints validation forbids; nothing here needs them.
        "--endpoint-reconciler-type=none",
    ]


def _ssl_context(s: ApiserverSettings) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(s.pki_dir / "ca.crt"))
    context.load_cert_chain(s.pki_dir / "admin.crt", s.pki_dir / "admin.key")
    return context


def etcd_healthy(s: ApiserverSettings) -> bool:
    with urllib.request.urlopen(f"{s.etcd_url}/health", timeout=2) as response:
        return json.load(response).get("health") == "true"


def apiserver_ready(s: ApiserverSettings) -> bool:
    with urllib.request.urlopen(f"{s.server_url}/readyz", timeout=2, context=_ssl_context(s)) as response:
        return response.read() == b"ok"


def up(s: ApiserverSettings) -> None:
    """Start what is not running and wait until both are ready (idempotent)."""
    with exclusive(s.state_dir / "lock"):
        _up(s)


def start(
    s: ApiserverSettings,
    name: str,
    argv: list[str],
    probe,
    ports: tuple[tuple[str, int], ...] = (),
    *,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
) -> None:
    """Start one component unless it runs, then wait until probe() holds; fail naming its log."""
    if process.running_pid(s, name) is None:
        for host, port in ports:
            if process.port_open(host, port):
                raise process.StartError(
                    f"{host}:{port}, which {name} needs, is taken by another process; free it or change the "
                    "port (docs/node.md lists the variables)"
                )
        log(f"starting {name}; log: {process.log_file(s, name)}")
        process.spawn(s, name, argv, env=env)
    process.wait_until(s, name, probe, timeout=timeout or s.start_timeout)


def start_control_plane(s: ApiserverSettings) -> None:
    missing = [str(b) for b in (s.etcd_binary, s.kube_apiserver_binary) if not b.exists()]
    if missing:
        raise process.StartError(f"not built yet: {', '.join(missing)}; run `make node-build` first")
    pki.ensure(s)
    start(s, ETCD, etcd_argv(s), lambda: etcd_healthy(s),
          ((s.etcd_host, s.etcd_client_port), (s.etcd_host, s.etcd_peer_port)))  # fmt: skip
    start(s, KUBE_APISERVER, apiserver_argv(s), lambda: apiserver_ready(s), ((s.host, s.apiserver_port),))


def _up(s: ApiserverSettings) -> None:
    start_control_plane(s)
    log(f"ready: {s.server_url}  KUBECONFIG={s.kubeconfig}")


def down(s: ApiserverSettings, *, purge: bool = False) -> None:
    with exclusive(s.state_dir / "lock"):
        for name in (KUBE_APISERVER, ETCD):
            process.stop(s, name)
    if purge:
        log(f"removing {s.state_dir}")
        shutil.rmtree(s.state_dir)


def status(s: ApiserverSettings) -> dict[str, dict]:
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
