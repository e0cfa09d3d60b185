"""The one-node cluster: start, check and stop every process, in order, and clean up after them.

Host processes (each a child of `questline-node up`'s session, pid file and log under the
state dir): etcd, kube-apiserver, kube-controller-manager, kube-scheduler, the registry,
containerd, kubelet, kube-proxy. Pods (images from the node's registry): CoreDNS, the
local-path provisioner, Traefik. docs/node.md explains why each runs where it does.
"""

import contextlib
import datetime
import json
import os
import shutil
import ssl
import string
import subprocess
import time
import urllib.request
from importlib import resources
from pathlib import Path

from questline_devkit import process
from questline_node import build, configs, control_plane, images, network, pki
from questline_node.build import exclusive, log
from questline_node.settings import NodeSettings

CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
REGISTRY = "registry"
CONTAINERD = "containerd"
KUBELET = "kubelet"
KUBE_PROXY = "kube-proxy"

# Start order; `down` stops them the other way round.
PROCESSES = (
    control_plane.ETCD,
    control_plane.KUBE_APISERVER,
    CONTROLLER_MANAGER,
    SCHEDULER,
    REGISTRY,
    CONTAINERD,
    KUBELET,
    KUBE_PROXY,
)
ADDONS = (
    ("kube-system", "coredns"),
    ("local-path-storage", "local-path-provisioner"),
    ("kube-system", "traefik"),
)
HOST_TOOLS = ("containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "conntrack", "buildah", "skopeo")


class _Template(string.Template):
    delimiter = "@"


def check_host() -> None:
    if os.geteuid() != 0:
        raise process.StartError("the node needs root (network devices, iptables, containerd); run as root")
    missing = [tool for tool in HOST_TOOLS if shutil.which(tool) is None]
    missing += [f"/usr/lib/cni/{p}" for p in ("bridge", "host-local", "portmap", "loopback")
                if not Path(f"/usr/lib/cni/{p}").exists()]  # fmt: skip
    if missing:
        raise process.StartError(f"missing on this machine: {', '.join(missing)}; run `make node-deps` (root, apt)")


# ---------------------------------------------------------------- probes


def _insecure() -> ssl.SSLContext:
    # The controller-manager's and scheduler's self-signed serving certificates.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _healthz(url: str, context: ssl.SSLContext | None = None) -> bool:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:
        return response.read().strip() == b"ok"


def api(s: NodeSettings, path: str) -> dict:
    context = ssl.create_default_context(cafile=str(s.pki_dir / "ca.crt"))
    context.load_cert_chain(s.pki_dir / "admin.crt", s.pki_dir / "admin.key")
    with urllib.request.urlopen(f"{s.server_url}{path}", timeout=5, context=context) as response:
        return json.load(response)


def containerd_ready(s: NodeSettings) -> bool:
    result = subprocess.run(
        ["ctr", f"--address={s.containerd_socket}", "version"], capture_output=True, text=True, timeout=10
    )
    return result.returncode == 0


def node_ready(s: NodeSettings, since: float | None = None) -> bool:
    """Ready, and (when `since` is given) reported by a kubelet that started after it: after
    `down`, etcd still holds the last Ready condition until the node controller marks it stale."""
    node = api(s, f"/api/v1/nodes/{s.node_name}")
    for c in node["status"]["conditions"]:
        if c["type"] == "Ready" and c["status"] == "True":
            if since is None:
                return True
            return _timestamp(c["lastHeartbeatTime"]) >= since - 1
    return False


def deployment_available(s: NodeSettings, namespace: str, name: str) -> bool:
    d = api(s, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    status = d.get("status", {})
    return (
        status.get("observedGeneration", 0) >= d["metadata"]["generation"]
        and status.get("updatedReplicas", 0) == d["spec"]["replicas"]
        and status.get("availableReplicas", 0) == d["spec"]["replicas"]
    )


def _timestamp(value: str) -> float:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def addon_running(s: NodeSettings, namespace: str, name: str, since: float | None) -> bool:
    """Available, and (when the kubelet was just started) every container of its pods started
    after `since`: a Deployment's status from before `down` would say available at once."""
    if not deployment_available(s, namespace, name):
        return False
    if since is None:
        return True
    d = api(s, f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")
    selector = ",".join(f"{k}={v}" for k, v in d["spec"]["selector"]["matchLabels"].items())
    pods = api(s, f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")["items"]
    running = [
        c.get("state", {}).get("running", {}).get("startedAt")
        for p in pods
        if p["metadata"].get("deletionTimestamp") is None
        for c in p["status"].get("containerStatuses", [])
    ]
    return bool(running) and all(t and _timestamp(t) >= since - 1 for t in running)


def probes(s: NodeSettings) -> dict:
    return {
        control_plane.ETCD: lambda: control_plane.etcd_healthy(s),
        control_plane.KUBE_APISERVER: lambda: control_plane.apiserver_ready(s),
        CONTROLLER_MANAGER: lambda: _healthz(f"https://127.0.0.1:{s.port(17)}/healthz", _insecure()),
        SCHEDULER: lambda: _healthz(f"https://127.0.0.1:{s.port(19)}/healthz", _insecure()),
        REGISTRY: lambda: images.registry_ready(s),
        CONTAINERD: lambda: containerd_ready(s),
        KUBELET: lambda: _healthz(f"http://127.0.0.1:{s.port(8)}/healthz"),
        KUBE_PROXY: lambda: urllib.request.urlopen(f"http://127.0.0.1:{s.port(16)}/healthz", timeout=2).status == 200,
    }


# ---------------------------------------------------------------- up


def up(s: NodeSettings) -> None:
    """Start what is not running and wait until the node is Ready and its add-ons are
    available (idempotent)."""
    check_host()
    build.build(s, build.NODE)
    s.state_dir.mkdir(parents=True, exist_ok=True)
    with exclusive(s.state_dir / "lock"):
        started = time.monotonic()
        _up(s)
        log(f"node {s.node_name} is up ({time.monotonic() - started:.0f}s)")
    print(f"export KUBECONFIG={s.kubeconfig}", flush=True)


def _up(s: NodeSettings) -> None:
    network.setup(s)
    pki.ensure(s)
    configs.write_all(s)
    control_plane.start_control_plane(s)
    p = probes(s)
    control_plane.start(s, CONTROLLER_MANAGER, configs.controller_manager_argv(s), p[CONTROLLER_MANAGER],
                        (("127.0.0.1", s.port(17)),))  # fmt: skip
    control_plane.start(s, SCHEDULER, configs.scheduler_argv(s), p[SCHEDULER], (("127.0.0.1", s.port(19)),))
    control_plane.start(s, REGISTRY, configs.registry_argv(s), p[REGISTRY], (("127.0.0.1", s.registry_port),))
    # The images every system pod runs, pause first (the kubelet needs it for any pod at all).
    refs = {name: images.ensure(s, image) for name, image in images.system_images(s).items()}
    if not Path("/run/containerd").exists():
        # containerd's shims keep their sockets in /run/containerd/s (a fixed path); `down`
        # removes the folder again if the node made it.
        (s.config_dir / "made-run-containerd").touch()
    control_plane.start(s, CONTAINERD, configs.containerd_argv(s), p[CONTAINERD])
    if not Path("/var/log/containers").exists():
        # The kubelet makes it (a fixed path); `down` removes it again if it is empty.
        (s.config_dir / "made-var-log-containers").touch()
    since = time.time() if process.running_pid(s, KUBELET) is None else None
    control_plane.start(s, KUBELET, configs.kubelet_argv(s), p[KUBELET], ((s.node_ip, 10250),))
    process.wait_until(s, KUBELET, lambda: node_ready(s, since), timeout=s.start_timeout,
                       what=f"Ready as node {s.node_name}")  # fmt: skip
    control_plane.start(s, KUBE_PROXY, configs.kube_proxy_argv(s), p[KUBE_PROXY], (("127.0.0.1", s.port(16)),))
    # kube-proxy puts its jumps at the top of FORWARD on its first sync; ours goes back before them.
    process.wait_until(s, KUBE_PROXY, lambda: network.kube_proxy_synced(), timeout=s.start_timeout,
                       what="synced (its iptables rules in place)")  # fmt: skip
    network.ensure_first(s)
    apply_addons(s, refs)
    for namespace, name in ADDONS:
        _wait_addon(s, namespace, name, since)


def addon_manifests(s: NodeSettings, refs: dict[str, str]) -> str:
    values = {
        "dns_ip": s.dns_service_ip,
        "cluster_domain": s.cluster_domain,
        "coredns_image": refs["coredns"],
        "local_path_image": refs["local-path-provisioner"],
        "busybox_image": refs["busybox"],
        "traefik_image": refs["traefik"],
        "local_path_dir": str(s.local_path_dir),
        "http_port": str(s.http_port),
        "ping_port": str(s.port(40)),
    }
    folder = resources.files("questline_node") / "addons"
    names = ("coredns", "local-path", "traefik")
    return "\n---\n".join(_Template((folder / f"{name}.yaml").read_text()).substitute(values) for name in names)


def kubectl(s: NodeSettings, *args: str, input: str | None = None, check: bool = True) -> str:
    argv = [str(s.kubectl_binary), f"--kubeconfig={s.kubeconfig}", *args]
    result = subprocess.run(argv, input=input, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise process.StartError(f"kubectl {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def apply_addons(s: NodeSettings, refs: dict[str, str]) -> None:
    manifests = addon_manifests(s, refs)
    (s.config_dir / "addons.yaml").write_text(manifests)
    log("applying the add-ons (CoreDNS, local-path provisioner, Traefik)")
    kubectl(s, "apply", "--server-side", "--force-conflicts", "--field-manager=questline-node", "-f", "-",
            input=manifests)  # fmt: skip


def _wait_addon(s: NodeSettings, namespace: str, name: str, since: float | None = None) -> None:
    """Wait for an add-on Deployment; on timeout name it, its pods' state and the kubelet's log."""
    deadline = time.monotonic() + s.start_timeout
    started = time.monotonic()
    while True:
        with contextlib.suppress(OSError, KeyError, ValueError):
            if addon_running(s, namespace, name, since):
                log(f"{namespace}/{name} is available ({time.monotonic() - started:.1f}s)")
                return
        if time.monotonic() > deadline:
            pods = kubectl(s, "-n", namespace, "get", "pods", "-o", "wide", check=False)
            events = kubectl(s, "-n", namespace, "get", "events", "--sort-by=.lastTimestamp", check=False)
            raise process.StartError(
                f"add-on {namespace}/{name} was not available within {s.start_timeout:.0f}s "
                f"(QUESTLINE_START_TIMEOUT); pods:\n{pods}\nlast events:\n{events[-2500:]}\n"
                f"see `kubectl -n {namespace} logs deploy/{name}` and {process.log_file(s, KUBELET)}"
            )
        time.sleep(1)


# ---------------------------------------------------------------- down


def crictl(s: NodeSettings, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    argv = [str(s.binary("crictl")), f"--runtime-endpoint=unix://{s.containerd_socket}", "--timeout=60s", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=check)


def down(s: NodeSettings) -> None:
    """Stop everything, data kept (etcd, registry, volumes, certificates); leave no process,
    mount, network namespace, veth, bridge or iptables chain behind. Idempotent."""
    if os.geteuid() != 0:
        raise process.StartError("the node needs root to stop (mounts, network devices, iptables)")
    if not s.state_dir.exists():
        log(f"{s.state_dir} does not exist: nothing to stop")
        return
    with exclusive(s.state_dir / "lock"):
        _down(s)


def _down(s: NodeSettings) -> None:
    # The kubelet first, or it would start the pods again as soon as they stop.
    process.stop(s, KUBELET)
    if process.running_pid(s, CONTAINERD) is not None and s.binary("crictl").exists():
        # Through the CRI, so the CNI plugins tear down each pod's network: veth, IP, port maps.
        log("stopping every pod sandbox")
        result = crictl(s, "rmp", "--all", "--force")
        if result.returncode != 0:
            log(f"crictl rmp: {result.stderr.strip()[-500:]}")
    process.stop(s, CONTAINERD)
    _kill_shims(s)
    process.stop(s, KUBE_PROXY)
    if s.binary("kube-proxy").exists():
        # kube-proxy's own cleanup of its iptables rules.
        subprocess.run([str(s.binary("kube-proxy")), "--cleanup", f"--config={s.config_dir / 'kube-proxy.json'}"],
                       capture_output=True, text=True)  # fmt: skip
    for name in (REGISTRY, SCHEDULER, CONTROLLER_MANAGER, control_plane.KUBE_APISERVER, control_plane.ETCD):
        process.stop(s, name)
    unmount_all(s)
    _remove_netns(s)
    network.teardown(s)
    _remove_cgroups()
    _remove_container_log_links(s)
    shutil.rmtree(s.containerd_dir / "state", ignore_errors=True)
    _remove_if_made(s, Path("/run/containerd"), "made-run-containerd")
    log("node is down (data kept; `make node-purge` removes it)")


def _kill_shims(s: NodeSettings) -> None:
    """containerd-shim processes outlive containerd by design; after `rmp` none should be
    left, but a shim whose pod could not be removed is ended here (ours only: by its -address)."""
    marker = str(s.containerd_socket)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"containerd-shim-runc-v2") and marker.encode() in cmdline:
            log(f"ending containerd-shim {proc.name}")
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), 9)


def mounts_under(root: Path) -> list[str]:
    found = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        target = line.split()[1].replace("\\040", " ")
        if target == str(root) or target.startswith(str(root) + "/"):
            found.append(target)
    return found


def unmount_all(s: NodeSettings) -> None:
    for target in sorted(mounts_under(s.state_dir), key=len, reverse=True):
        result = subprocess.run(["umount", target], capture_output=True, text=True)
        if result.returncode != 0:
            subprocess.run(["umount", "-l", target], capture_output=True, text=True)


def _remove_netns(s: NodeSettings) -> None:
    folder = s.containerd_dir / "state" / "netns"
    if folder.exists():
        for ns in folder.iterdir():
            with contextlib.suppress(OSError):
                ns.unlink()


def _remove_cgroups() -> None:
    """The kubelet's cgroup tree (`kubepods`, cgroupfs driver) in every hierarchy, deepest first."""
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        root = hierarchy / "kubepods"
        if not root.is_dir():
            continue
        for folder in sorted((p for p in root.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        with contextlib.suppress(OSError):
            root.rmdir()


def _remove_container_log_links(s: NodeSettings) -> None:
    """The kubelet links every container's log into /var/log/containers (a fixed path)."""
    folder = Path("/var/log/containers")
    if not folder.is_dir():
        return
    for link in folder.iterdir():
        if link.is_symlink() and os.readlink(link).startswith(str(s.state_dir)):
            link.unlink()
    _remove_if_made(s, folder, "made-var-log-containers")


def _remove_if_made(s: NodeSettings, folder: Path, marker: str) -> None:
    """Remove a fixed-path folder a component made, if the node made it and it holds no file."""
    if not (s.config_dir / marker).exists() or not folder.exists():
        return
    if all(p.is_dir() for p in folder.rglob("*")):
        shutil.rmtree(folder, ignore_errors=True)
        (s.config_dir / marker).unlink()


def purge(s: NodeSettings) -> None:
    down(s)
    if s.state_dir.exists():
        log(f"removing {s.state_dir}")
        shutil.rmtree(s.state_dir)


def leftovers(s: NodeSettings) -> list[str]:
    """What the node still has on the machine: empty once `down` has run."""
    found = [f"process {name} (pid {pid})" for name in PROCESSES if (pid := process.running_pid(s, name))]
    found += [f"mount {m}" for m in mounts_under(s.state_dir)]
    found += network.leftovers(s)
    netns = s.containerd_dir / "state" / "netns"
    if netns.exists():
        found += [f"netns {p}" for p in netns.iterdir()]
    found += [f"cgroup {h}/kubepods" for h in Path("/sys/fs/cgroup").iterdir() if (h / "kubepods").exists()]
    return found


# ---------------------------------------------------------------- status


def status(s: NodeSettings) -> dict:
    report: dict = {"processes": {}, "addons": {}, "node": None}
    p = probes(s)
    for name in PROCESSES:
        pid = process.running_pid(s, name)
        try:
            ready = pid is not None and p[name]()
        except Exception:
            ready = False
        report["processes"][name] = {
            "pid": pid,
            "rss_mib": round(process.rss_mib(pid)) if pid else 0,
            "ready": bool(ready),
            "log": str(process.log_file(s, name)),
        }
    try:
        node = api(s, f"/api/v1/nodes/{s.node_name}")
        report["node"] = {
            "name": s.node_name,
            "version": node["status"]["nodeInfo"]["kubeletVersion"],
            "conditions": {c["type"]: c["status"] for c in node["status"]["conditions"]},
        }
        for namespace, name in ADDONS:
            report["addons"][f"{namespace}/{name}"] = deployment_available(s, namespace, name)
    except Exception as error:
        report["error"] = f"API server not answering: {error}"
    report["kubeconfig"] = str(s.kubeconfig)
    report["ingress"] = f"http://127.0.0.1:{s.http_port}"
    report["registry"] = f"http://{s.registry}"
    return report


def healthy(report: dict) -> bool:
    return (
        all(p["ready"] for p in report["processes"].values())
        and report["node"] is not None
        and report["node"]["conditions"].get("Ready") == "True"
        and all(report["addons"].values())
        and len(report["addons"]) == len(ADDONS)
    )
