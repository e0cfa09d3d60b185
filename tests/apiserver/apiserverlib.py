"""Helpers of the apiserver tests: run helm, compare rendered with stored objects, complete hook Jobs."""

import base64
import os
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from kubernetes.utils import parse_quantity

from questline_devkit.versions import repo_root

CHART = repo_root() / "charts" / "questline"
RELEASE = "questline"


def wait_for(predicate, *, timeout: float = 60, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def crd_established(api_client, name: str) -> bool:
    crd = client.ApiextensionsV1Api(api_client).read_custom_resource_definition(name)
    return any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or [])


def new_namespace(api_client) -> str:
    """A fresh namespace with its `default` ServiceAccount.

    Without kube-controller-manager nobody creates that ServiceAccount (nor finishes
    deleting a namespace: it would stay Terminating), so each use gets a new name.
    """
    name = f"questline-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(api_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    core.create_namespaced_service_account(name, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="default")))
    return name


class Helm:
    def __init__(self, binary: str, kubeconfig: Path):
        self.binary = binary
        self.env = {**os.environ, "KUBECONFIG": str(kubeconfig)}

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([self.binary, *args], capture_output=True, text=True, env=self.env, timeout=600)
        if check and result.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({result.returncode}):\n{result.stderr}{result.stdout}")
        return result

    def template(self, *values_args: str) -> list[dict]:
        return documents(self.run("template", RELEASE, str(CHART), *values_args).stdout)

    def manifest(self, namespace: str) -> list[dict]:
        return documents(self.run("get", "manifest", RELEASE, "-n", namespace).stdout)

    def hooks(self, namespace: str) -> list[dict]:
        return documents(self.run("get", "hooks", RELEASE, "-n", namespace).stdout)


def documents(text: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(text) if doc]


def ref(obj: dict) -> str:
    return f"{obj['kind']}/{obj['metadata']['name']}"


def _empty(value: Any) -> bool:
    return value in (None, "", {}, [])


def _same_scalar(rendered: Any, stored: Any) -> bool:
    if rendered == stored:
        return True
    # The server canonicalises quantities ("1000m" is stored as "1", "1024Mi" as "1Gi").
    try:
        return parse_quantity(rendered) == parse_quantity(stored)
    except (ValueError, TypeError):
        return False


def differences(rendered: Any, stored: Any, path: str = "") -> list[str]:
    """Every field the chart rendered that the server did not store as rendered.

    Fields the server added (its defaults) are not differences; empty rendered values
    the server omits are not either.
    """
    if isinstance(rendered, dict):
        if not isinstance(stored, dict):
            return [f"{path}: rendered a map, stored {stored!r}"]
        found = []
        for key, value in rendered.items():
            if key not in stored:
                if not _empty(value):
                    found.append(f"{path}.{key}: rendered {value!r}, not stored")
                continue
            found += differences(value, stored[key], f"{path}.{key}")
        return found
    if isinstance(rendered, list):
        if not isinstance(stored, list) or len(stored) != len(rendered):
            return [f"{path}: rendered {rendered!r}, stored {stored!r}"]
        return [
            d for i, (r, s) in enumerate(zip(rendered, stored, strict=True)) for d in differences(r, s, f"{path}[{i}]")
        ]
    return [] if _same_scalar(rendered, stored) else [f"{path}: rendered {rendered!r}, stored {stored!r}"]


def as_stored(rendered: dict) -> dict:
    """The rendered object in the form the server keeps it (Secret stringData becomes data)."""
    if rendered.get("kind") != "Secret" or "stringData" not in rendered:
        return rendered
    data = dict(rendered.get("data") or {})
    data |= {k: base64.b64encode(str(v).encode()).decode() for k, v in rendered["stringData"].items()}
    return {k: v for k, v in rendered.items() if k != "stringData"} | {"data": data}


@dataclass
class HookRecord:
    """What the stand-in job controller saw: ("created"|"completed", kind/name) in order."""

    events: list[tuple[str, str]] = field(default_factory=list)

    def created(self) -> list[str]:
        return [name for what, name in self.events if what == "created"]


class HookCompleter:
    """Stands in for the job controller and the kubelet for Helm hooks.

    Helm creates a hook Job, waits until it reports Complete, then creates the next.
    No controller runs here, so this watches the namespace's Jobs and marks each one
    succeeded after a short pause; the pause makes it visible whether Helm really
    waited (a next hook created before `completed` would show in the record).
    """

    PAUSE = 1.0

    def __init__(self, api_client, namespace: str):
        self.batch = client.BatchV1Api(api_client)
        self.namespace = namespace
        self.record = HookRecord()
        self._watch = watch.Watch()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.error: Exception | None = None
        self._stopping = False

    def __enter__(self) -> "HookCompleter":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping = True
        self._watch.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        try:
            for event in self._watch.stream(self.batch.list_namespaced_job, self.namespace, timeout_seconds=600):
                job = event["object"]
                if event["type"] == "ADDED" and not job.status.completion_time:
                    self.record.events.append(("created", f"Job/{job.metadata.name}"))
                    time.sleep(self.PAUSE)
                    self._complete(job)
                    self.record.events.append(("completed", f"Job/{job.metadata.name}"))
        except Exception as error:  # surfaced by the test through .error
            if not self._stopping:  # stopping closes the stream under the reader
                self.error = error

    def _complete(self, job) -> None:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        status = {
            "startTime": now,
            "completionTime": now,
            "succeeded": job.spec.completions or 1,
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": now, "lastTransitionTime": now}
                for t in ("SuccessCriteriaMet", "Complete")
            ],
        }
        try:
            self.batch.patch_namespaced_job_status(job.metadata.name, self.namespace, {"status": status})
        except ApiException as error:
            if error.status != 404:  # 404: already deleted by a hook delete policy
                raise
