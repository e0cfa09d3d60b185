"""The node's configuration files (containerd, registry mirrors, CNI, kubelet, kube-proxy,
the registry) and the command lines of its processes, all written under the state dir."""

import json
from pathlib import Path

from questline_node import pki
from questline_node.settings import SERVICE_CIDR, NodeSettings

# Registries whose images the node serves from its own registry: a pod naming
# `questline/game-api:0.1.0` (docker.io) or `quay.io/strimzi/operator:1.2.0` is pulled from
# 127.0.0.1:5000 (questline/game-api, strimzi/operator), never from outside.
MIRRORED = ("docker.io", "quay.io", "registry.k8s.io", "ghcr.io")

PAUSE_IMAGE = "questline/pause"

# The registry (3.x) exports OpenTelemetry traces to localhost:4318 by default and logs an
# error each time nothing answers; there is no collector here.
REGISTRY_ENV = {"OTEL_TRACES_EXPORTER": "none"}


def pause_image(s: NodeSettings) -> str:
    return f"{s.registry}/{PAUSE_IMAGE}:{s.version_of('pause')}"


def _toml_str(value: str | Path) -> str:
    return json.dumps(str(value))


def containerd_config(s: NodeSettings) -> str:
    d = s.containerd_dir
    cri = '[plugins."io.containerd.grpc.v1.cri"'
    return f"""# Written by questline-node (node/src/questline_node/configs.py); rewritten on every `up`.
version = 2
root = {_toml_str(d / "root")}
state = {_toml_str(d / "state")}
# Snapshotters these machines cannot use.
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = {_toml_str(s.containerd_socket)}

[plugins."io.containerd.internal.v1.opt"]
  path = {_toml_str(d / "opt")}

{cri}]
  sandbox_image = {_toml_str(pause_image(s))}
  # These machines withhold CAP_SYS_RESOURCE: runc cannot lower a sandbox's oom_score_adj
  # below the parent's and fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Pod network namespaces under the state dir, so `down` finds and removes every one.
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  disable_apparmor = true

{cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

{cri}.containerd.runtimes.runc.options]
  BinaryName = "runc"
  Root = {_toml_str(d / "runc")}
  # No systemd as PID 1 here: the kubelet and runc use cgroupfs.
  SystemdCgroup = false

{cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = {_toml_str(s.cni_dir / "net.d")}

{cri}.registry]
  config_path = {_toml_str(d / "certs.d")}
"""


def hosts_toml(s: NodeSettings) -> str:
    url = f"http://{s.registry}"
    return f"""# The node's own registry, plain HTTP on loopback; no fallback to the upstream registry.
server = "{url}"

[host."{url}"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
"""


def cni_conflist(s: NodeSettings) -> str:
    conf = {
        "cniVersion": "1.0.0",
        "name": "questline",
        "plugins": [
            {
                "type": "bridge",
                "bridge": s.pod_bridge,
                "isGateway": True,
                # No masquerade: pod traffic never leaves the machine (network.firewall).
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": s.pod_cidr, "gateway": s.pod_gateway}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(s.cni_dir / "ipam"),
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}},
        ],
    }
    return json.dumps(conf, indent=2) + "\n"


def kubelet_config(s: NodeSettings) -> str:
    p = s.pki_dir
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        # No systemd as PID 1: cgroupfs, as containerd's runc options say.
        "cgroupDriver": "cgroupfs",
        "containerRuntimeEndpoint": f"unix://{s.containerd_socket}",
        "address": s.node_ip,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": s.port(8),
        "tlsCertFile": str(p / "kubelet-serving.crt"),
        "tlsPrivateKeyFile": str(p / "kubelet-serving.key"),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(p / "ca.crt")},
        },
        "authorization": {"mode": "Webhook"},
        "clusterDomain": s.cluster_domain,
        "clusterDNS": [s.dns_service_ip],
        # No upstream DNS for pods: nothing is resolved off the machine.
        "resolvConf": "",
        "podLogsDir": str(s.state_dir / "pod-logs"),
        "failSwapOn": False,
        "serializeImagePulls": False,
        "maxPods": 110,
        # 1.34 still runs on cgroup v1 without it; say so, 1.35+ would refuse otherwise.
        "failCgroupV1": False,
        # The disk is shared with builds: evict late, collect images only when really full.
        "evictionHard": {"memory.available": "200Mi", "nodefs.available": "5%", "imagefs.available": "5%"},
        "imageGCHighThresholdPercent": 95,
        "imageGCLowThresholdPercent": 90,
        "shutdownGracePeriod": "0s",
    }
    return json.dumps(config, indent=2) + "\n"


def kube_proxy_config(s: NodeSettings) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(pki.kubeconfig_of(s, "kube-proxy"))},
        # No IPVS in these kernels; iptables mode (through iptables-nft).
        "mode": "iptables",
        "clusterCIDR": s.pod_cidr,
        "hostnameOverride": s.node_name,
        "bindAddress": s.node_ip,
        "healthzBindAddress": f"127.0.0.1:{s.port(16)}",
        "metricsBindAddress": f"127.0.0.1:{s.port(9)}",
        # NodePorts only on the node's own address, never on the machine's interfaces.
        "nodePortAddresses": [f"{s.node_ip}/32"],
        "iptables": {"localhostNodePorts": False, "masqueradeAll": False},
        # Leave the machine's conntrack settings alone.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return json.dumps(config, indent=2) + "\n"


def registry_config(s: NodeSettings) -> str:
    return f"""# The node's image registry (distribution {s.registry_version}); written by questline-node.
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {s.registry_dir}
  delete:
    enabled: true
http:
  addr: {s.registry}
"""


def _write(path: Path, content: str) -> None:
    """Write only what changed: kube-proxy exits when its configuration file is touched."""
    if not path.exists() or path.read_text() != content:
        path.write_text(content)


def write_all(s: NodeSettings) -> None:
    c = s.config_dir
    c.mkdir(parents=True, exist_ok=True)
    _write(c / "containerd.toml", containerd_config(s))
    for registry in (s.registry, *MIRRORED):
        folder = s.containerd_dir / "certs.d" / registry
        folder.mkdir(parents=True, exist_ok=True)
        _write(folder / "hosts.toml", hosts_toml(s))
    (s.cni_dir / "net.d").mkdir(parents=True, exist_ok=True)
    _write(s.cni_dir / "net.d" / "10-questline.conflist", cni_conflist(s))
    _write(c / "kubelet.json", kubelet_config(s))
    _write(c / "kube-proxy.json", kube_proxy_config(s))
    _write(c / "registry.yml", registry_config(s))
    s.registry_dir.mkdir(parents=True, exist_ok=True)
    s.local_path_dir.mkdir(parents=True, exist_ok=True)


def controller_manager_argv(s: NodeSettings) -> list[str]:
    p = s.pki_dir
    kubeconfig = pki.kubeconfig_of(s, "kube-controller-manager")
    return [
        str(s.binary("kube-controller-manager")),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={s.port(17)}",
        f"--cert-dir={s.state_dir / 'certs'}",
        "--leader-elect=false",
        # Each controller acts as its own ServiceAccount, as in kubeadm clusters.
        "--use-service-account-credentials=true",
        f"--root-ca-file={p / 'ca.crt'}",
        f"--service-account-private-key-file={p / 'service-account.key'}",
        f"--cluster-signing-cert-file={p / 'ca.crt'}",
        f"--cluster-signing-key-file={p / 'ca.key'}",
        # The node's spec.podCIDR says what the CNI bridge hands out.
        "--allocate-node-cidrs=true",
        f"--cluster-cidr={s.pod_cidr}",
        "--node-cidr-mask-size=24",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--profiling=false",
    ]


def scheduler_argv(s: NodeSettings) -> list[str]:
    kubeconfig = pki.kubeconfig_of(s, "kube-scheduler")
    return [
        str(s.binary("kube-scheduler")),
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={s.port(19)}",
        "--leader-elect=false",
        "--profiling=false",
    ]


def containerd_argv(s: NodeSettings) -> list[str]:
    return ["containerd", f"--config={s.config_dir / 'containerd.toml'}"]


def kubelet_argv(s: NodeSettings) -> list[str]:
    return [
        str(s.binary("kubelet")),
        f"--config={s.config_dir / 'kubelet.json'}",
        f"--kubeconfig={pki.kubeconfig_of(s, 'kubelet')}",
        f"--root-dir={s.kubelet_dir}",
        f"--cert-dir={s.kubelet_dir / 'pki'}",
        f"--hostname-override={s.node_name}",
        # Not loopback: the kubelet refuses 127.0.0.1 as the node's address.
        f"--node-ip={s.node_ip}",
        "--v=1",
    ]


def kube_proxy_argv(s: NodeSettings) -> list[str]:
    return [str(s.binary("kube-proxy")), f"--config={s.config_dir / 'kube-proxy.json'}"]


def registry_argv(s: NodeSettings) -> list[str]:
    return [str(s.binary("registry")), "serve", str(s.config_dir / "registry.yml")]
