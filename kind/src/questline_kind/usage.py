"""What every pod of a namespace uses, measured, against what it requests (`questline-kind usage`).

No metrics-server is needed: on the one-node cluster the kubelet runs on this host, so each pod's
cgroup (v1: memory and cpuacct under kubepods/<qos>/pod<uid>) is read directly. Memory is the
working set as the kubelet counts it (usage minus inactive file cache); CPU is cpuacct.usage over
a sampling interval, in millicores."""

import dataclasses
import time
from pathlib import Path

from kubernetes import client
from kubernetes.client import ApiClient

_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9}


def parse_memory(text: str | None) -> int:
    """Kubernetes quantity of bytes ("768Mi", "1Gi", "500M", "1024") as an int."""
    if not text:
        return 0
    for suffix, factor in _UNITS.items():
        if text.endswith(suffix):
            return int(float(text[: -len(suffix)]) * factor)
    return int(float(text))


def parse_cpu(text: str | None) -> int:
    """Kubernetes CPU quantity ("250m", "1", "0.5") in millicores."""
    if not text:
        return 0
    if text.endswith("m"):
        return int(float(text[:-1]))
    return int(float(text) * 1000)


@dataclasses.dataclass(frozen=True)
class PodUsage:
    name: str
    cpu_millis: float
    memory_bytes: int
    cpu_request_millis: int
    memory_request_bytes: int
    memory_limit_bytes: int


def _pod_cgroup(root: Path, controller: str, uid: str) -> Path | None:
    name = f"pod{uid}"
    for qos in ("", "burstable", "besteffort"):
        path = root / controller / "kubepods" / qos / name if qos else root / controller / "kubepods" / name
        if path.is_dir():
            return path
    return None


def _working_set(path: Path) -> int:
    usage = int((path / "memory.usage_in_bytes").read_text())
    stat = dict(line.split() for line in (path / "memory.stat").read_text().splitlines())
    return max(0, usage - int(stat.get("total_inactive_file", 0)))


def _requests(pod: client.V1Pod) -> tuple[int, int, int]:
    cpu = memory = limit = 0
    for container in pod.spec.containers:
        resources = container.resources
        requests = (resources.requests or {}) if resources else {}
        limits = (resources.limits or {}) if resources else {}
        cpu += parse_cpu(requests.get("cpu"))
        memory += parse_memory(requests.get("memory"))
        limit += parse_memory(limits.get("memory"))
    return cpu, memory, limit


def measure(
    api: ApiClient, namespace: str, *, interval: float = 10.0, root: Path = Path("/sys/fs/cgroup")
) -> list[PodUsage]:
    """Every running pod of the namespace: CPU over `interval` seconds, memory at the end."""
    pods = [p for p in client.CoreV1Api(api).list_namespaced_pod(namespace).items if p.status.phase == "Running"]
    cpu_paths = {p.metadata.uid: _pod_cgroup(root, "cpuacct", p.metadata.uid) for p in pods}
    before = {uid: int((path / "cpuacct.usage").read_text()) for uid, path in cpu_paths.items() if path}
    started = time.monotonic()
    time.sleep(interval)
    elapsed = time.monotonic() - started
    found = []
    for pod in pods:
        uid = pod.metadata.uid
        cpu_path, mem_path = cpu_paths.get(uid), _pod_cgroup(root, "memory", uid)
        if not cpu_path or not mem_path or uid not in before:
            continue
        used_ns = int((cpu_path / "cpuacct.usage").read_text()) - before[uid]
        cpu_request, memory_request, memory_limit = _requests(pod)
        found.append(
            PodUsage(
                pod.metadata.name,
                used_ns / 1e6 / elapsed,
                _working_set(mem_path),
                cpu_request,
                memory_request,
                memory_limit,
            )
        )
    return sorted(found, key=lambda u: u.name)


def table(usages: list[PodUsage]) -> str:
    mib = 2**20
    lines = [f"{'pod':<52} {'cpu(m)':>7} {'req(m)':>7} {'mem(Mi)':>8} {'req(Mi)':>8} {'lim(Mi)':>8}"]
    for u in usages:
        lines.append(
            f"{u.name:<52} {u.cpu_millis:>7.0f} {u.cpu_request_millis:>7} {u.memory_bytes / mib:>8.0f} "
            f"{u.memory_request_bytes / mib:>8.0f} {u.memory_limit_bytes / mib:>8.0f}"
        )
    total_cpu = sum(u.cpu_millis for u in usages)
    total_mem = sum(u.memory_bytes for u in usages)
    lines.append(
        f"{'total':<52} {total_cpu:>7.0f} {sum(u.cpu_request_millis for u in usages):>7} "
        f"{total_mem / mib:>8.0f} {sum(u.memory_request_bytes for u in usages) / mib:>8.0f} "
        f"{sum(u.memory_limit_bytes for u in usages) / mib:>8.0f}"
    )
    return "\n".join(lines)
