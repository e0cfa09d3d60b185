"""Helpers of the node tests: kubectl at the pinned version, waiting, small manifests."""

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from questline_node.settings import NodeSettings

NODE_CLI = [str(Path(sys.executable).parent / "questline-node")]


def node_cli(*args: str, timeout: float = 1800) -> subprocess.CompletedProcess:
    """The CLI a person uses (`make node-up` runs the same)."""
    return subprocess.run([*NODE_CLI, *args], capture_output=True, text=True, timeout=timeout)


class Kube:
    """kubectl (built from the same wrapper module as the cluster) against the node."""

    def __init__(self, s: NodeSettings, *, token: str | None = None):
        self.s = s
        self.token = token

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> str:
        argv = [str(self.s.kubectl_binary), f"--kubeconfig={self.s.kubeconfig}"]
        if self.token:
            # Only the token's identity: no client certificate.
            argv = [str(self.s.kubectl_binary), f"--server={self.s.server_url}",
                    f"--certificate-authority={self.s.pki_dir / 'ca.crt'}", f"--token={self.token}"]  # fmt: skip
        result = subprocess.run([*argv, *args], input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout if check else result.stdout + result.stderr

    def apply(self, manifest: str, namespace: str | None = None) -> None:
        self.run(*(["-n", namespace] if namespace else []), "apply", "-f", "-", input=manifest)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict:
        return json.loads(self.run(*(["-n", namespace] if namespace else []), "get", kind, name, "-o", "json"))

    def items(self, kind: str, namespace: str, selector: str | None = None) -> list[dict]:
        args = ["-n", namespace, "get", kind, "-o", "json"] + (["-l", selector] if selector else [])
        return json.loads(self.run(*args))["items"]

    def logs(self, target: str, namespace: str) -> str:
        return self.run("-n", namespace, "logs", target)


def wait_for(condition: Callable[[], object], *, what: str, timeout: float = 120, interval: float = 1):
    """Poll until condition() returns something truthy and return it; fail naming `what`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (AssertionError, KeyError, IndexError, ValueError) as error:
            last_error = error
        time.sleep(interval)
    detail = f": {last_error}" if last_error else ""
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}{detail}")


def new_namespace(kube: Kube) -> str:
    name = f"node-test-{uuid.uuid4().hex[:8]}"
    kube.run("create", "namespace", name)
    # The ServiceAccount controller makes `default` shortly after; pods need it.
    wait_for(lambda: kube.run("-n", name, "get", "serviceaccount", "default", check=False).startswith("NAME"),
             what=f"ServiceAccount default in {name}")  # fmt: skip
    return name


def pod_phase(kube: Kube, name: str, namespace: str) -> str:
    return kube.get("pod", name, namespace)["status"].get("phase", "")


def container_status(kube: Kube, name: str, namespace: str) -> dict:
    statuses = kube.get("pod", name, namespace)["status"].get("containerStatuses") or [{}]
    return statuses[0]


def ready_pods(kube: Kube, namespace: str, selector: str) -> list[dict]:
    return [
        p
        for p in kube.items("pods", namespace, selector)
        if p["metadata"].get("deletionTimestamp") is None
        and any(c["type"] == "Ready" and c["status"] == "True" for c in p["status"].get("conditions", []))
    ]


def web_deployment(name: str, image: str, replicas: int = 2) -> str:
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: web
          image: {image}
          command: ["/bin/node-probe", "serve", ":8080"]
          ports: [{{containerPort: 8080}}]
          readinessProbe:
            httpGet: {{path: /healthz, port: 8080}}
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 80, targetPort: 8080}}]
"""


def pod(name: str, image: str, command: str, *, extra: str = "", restart: str = "Never") -> str:
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  restartPolicy: {restart}
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: {image}
      command: ["/bin/sh", "-c", {json.dumps(command)}]
{extra}
"""
