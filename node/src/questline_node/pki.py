"""Certificates, service-account key and kubeconfigs of the local cluster, made once with openssl.

Files are kept once made, so kubeconfigs stay valid across restarts; `purge` removes them.
"""

import dataclasses
import json
import subprocess
from pathlib import Path

from questline_node.settings import ApiserverSettings, NodeSettings

ADMIN_USER = "questline-admin"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc"]


@dataclasses.dataclass(frozen=True)
class Client:
    """A client certificate (and the kubeconfig that uses it): the subject is the identity RBAC sees."""

    name: str
    subject: str


# The control plane's identities, bound by the API server's bootstrap RBAC policy
# (system:kube-controller-manager, system:kube-scheduler, system:node-proxier) and
# the Node authorizer (system:node:<name> in system:nodes).
def node_clients(s: NodeSettings) -> list[Client]:
    return [
        Client("kube-controller-manager", "/CN=system:kube-controller-manager"),
        Client("kube-scheduler", "/CN=system:kube-scheduler"),
        Client("kube-proxy", "/CN=system:kube-proxy"),
        Client("kubelet", f"/O=system:nodes/CN=system:node:{s.node_name}"),
        # The API server's identity towards the kubelet (logs, exec, port-forward).
        Client("apiserver-kubelet-client", "/O=system:masters/CN=kube-apiserver-kubelet-client"),
    ]


def server_names(s: ApiserverSettings) -> list[str]:
    """Names the API server's certificate answers to: where it listens, the `kubernetes`
    Service's ClusterIP and the in-cluster DNS names."""
    ips = dict.fromkeys(["127.0.0.1", s.host, s.advertise_address, s.kubernetes_service_ip])
    return [f"IP:{ip}" for ip in ips] + [
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
    ]


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _signed(pki: Path, name: str, subject: str, *extensions: str) -> None:
    if (pki / f"{name}.crt").exists():
        return
    addext = [arg for ext in extensions for arg in ("-addext", ext)]
    _openssl(
        "req", "-x509", *EC_KEY, "-days", "3650", "-subj", subject,
        "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
        "-keyout", str(pki / f"{name}.key"), "-out", str(pki / f"{name}.crt"),
        "-addext", "basicConstraints=critical,CA:FALSE", *addext,
    )  # fmt: skip


def ensure(s: ApiserverSettings) -> None:
    """Create what is missing; existing files are kept so clients stay valid across restarts."""
    pki = s.pki_dir
    pki.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (pki / "ca.crt").exists():
        _openssl(
            "req", "-x509", *EC_KEY, "-days", "3650", "-subj", f"/CN={s.context}-ca",
            "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"),
        )  # fmt: skip
    _signed(pki, "apiserver", "/CN=kube-apiserver", "extendedKeyUsage=serverAuth",
            "subjectAltName=" + ",".join(server_names(s)))  # fmt: skip
    # system:masters is bound to cluster-admin by the server's bootstrap RBAC policy.
    _signed(pki, "admin", f"/O=system:masters/CN={ADMIN_USER}", "extendedKeyUsage=clientAuth")
    if not (pki / "service-account.key").exists():
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", str(pki / "service-account.key"))  # fmt: skip
        _openssl("pkey", "-in", str(pki / "service-account.key"), "-pubout",
                 "-out", str(pki / "service-account.pub"))  # fmt: skip
    write_kubeconfig(s, s.kubeconfig, "admin", ADMIN_USER)
    if isinstance(s, NodeSettings):
        for client in node_clients(s):
            _signed(pki, client.name, client.subject, "extendedKeyUsage=clientAuth")
            write_kubeconfig(s, kubeconfig_of(s, client.name), client.name, client.name)
        # The kubelet's serving certificate: the API server checks it against our CA.
        _signed(pki, "kubelet-serving", f"/CN={s.node_name}", "extendedKeyUsage=serverAuth",
                f"subjectAltName=IP:{s.node_ip},DNS:{s.node_name}")  # fmt: skip


def kubeconfig_of(s: ApiserverSettings, client: str) -> Path:
    return s.pki_dir / f"{client}.kubeconfig"


def write_kubeconfig(s: ApiserverSettings, path: Path, cert: str, user: str) -> None:
    # JSON is valid YAML: kubectl, helm and the Python client all read it.
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": s.context,
                "cluster": {"server": s.server_url, "certificate-authority": str(s.pki_dir / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {
                    "client-certificate": str(s.pki_dir / f"{cert}.crt"),
                    "client-key": str(s.pki_dir / f"{cert}.key"),
                },
            }
        ],
        "contexts": [{"name": s.context, "context": {"cluster": s.context, "user": user}}],
        "current-context": s.context,
    }
    path.write_text(json.dumps(config, indent=2) + "\n")
    path.chmod(0o600)
