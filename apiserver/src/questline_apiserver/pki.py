"""Certificates, service-account key and kubeconfig of the local control plane, made once with openssl."""

import json
import subprocess

from questline_apiserver.settings import Settings

# Names the serving certificate answers to: loopback, and the in-cluster names a
# kubeconfig or a pod could use for the `kubernetes` Service.
SERVER_NAMES = [
    "IP:127.0.0.1",
    "IP:10.96.0.1",
    "DNS:localhost",
    "DNS:kubernetes",
    "DNS:kubernetes.default",
    "DNS:kubernetes.default.svc",
    "DNS:kubernetes.default.svc.cluster.local",
]
SERVICE_CLUSTER_IP_RANGE = "10.96.0.0/16"
ADMIN_USER = "questline-admin"
EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-noenc"]


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _signed(s: Settings, name: str, subject: str, *extensions: str) -> None:
    pki = s.pki_dir
    addext = [arg for ext in extensions for arg in ("-addext", ext)]
    _openssl(
        "req", "-x509", *EC_KEY, "-days", "3650", "-subj", subject,
        "-CA", str(pki / "ca.crt"), "-CAkey", str(pki / "ca.key"),
        "-keyout", str(pki / f"{name}.key"), "-out", str(pki / f"{name}.crt"),
        "-addext", "basicConstraints=critical,CA:FALSE", *addext,
    )  # fmt: skip


def ensure(s: Settings) -> None:
    """Create what is missing; existing files are kept so clients stay valid across restarts."""
    pki = s.pki_dir
    pki.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not (pki / "ca.crt").exists():
        _openssl(
            "req", "-x509", *EC_KEY, "-days", "3650", "-subj", "/CN=questline-local-ca",
            "-keyout", str(pki / "ca.key"), "-out", str(pki / "ca.crt"),
        )  # fmt: skip
    if not (pki / "apiserver.crt").exists():
        _signed(s, "apiserver", "/CN=kube-apiserver", "extendedKeyUsage=serverAuth",
                "subjectAltName=" + ",".join(SERVER_NAMES))  # fmt: skip
    if not (pki / "admin.crt").exists():
        # system:masters is bound to cluster-admin by the server's bootstrap RBAC policy.
        _signed(s, "admin", f"/O=system:masters/CN={ADMIN_USER}", "extendedKeyUsage=clientAuth")
    if not (pki / "service-account.key").exists():
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-out", str(pki / "service-account.key"))  # fmt: skip
        _openssl("pkey", "-in", str(pki / "service-account.key"), "-pubout",
                 "-out", str(pki / "service-account.pub"))  # fmt: skip
    write_kubeconfig(s)


def write_kubeconfig(s: Settings) -> None:
    # JSON is valid YAML: kubectl, helm and the Python client all read it.
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "questline-local",
                "cluster": {"server": s.server_url, "certificate-authority": str(s.pki_dir / "ca.crt")},
            }
        ],
        "users": [
            {
                "name": ADMIN_USER,
                "user": {
                    "client-certificate": str(s.pki_dir / "admin.crt"),
                    "client-key": str(s.pki_dir / "admin.key"),
                },
            }
        ],
        "contexts": [{"name": "questline-local", "context": {"cluster": "questline-local", "user": ADMIN_USER}}],
        "current-context": "questline-local",
    }
    s.kubeconfig.write_text(json.dumps(config, indent=2) + "\n")
    s.kubeconfig.chmod(0o600)
