"""The node's network on this machine: its own address, the firewall chain that keeps pod
traffic on the machine, the kernel settings the node changes (put back on `down`), and the
cleanup of everything kube-proxy, kubelet and the CNI plugins leave in iptables.

Nothing here touches the machine's own interfaces or rules: every device, chain and route
is one the node made (docs/node.md: the address plan and the firewall rule)."""

import contextlib
import ipaddress
import json
import re
import shutil
import subprocess
from pathlib import Path

from questline_node.build import log
from questline_node.settings import SERVICE_CIDR, NodeSettings

# Kernel settings the node's components change: the kubelet sets vm/kernel ones (it does unless
# protectKernelDefaults, which only refuses to start instead), the CNI bridge plugin turns on
# forwarding. Their values before the first `up` are saved and put back by `down`.
SYSCTLS = (
    "net.ipv4.ip_forward",
    "vm.overcommit_memory",
    "vm.panic_on_oom",
    "kernel.panic",
    "kernel.panic_on_oops",
    "kernel.keys.root_maxkeys",
    "kernel.keys.root_maxbytes",
    "net.ipv4.conf.all.route_localnet",
)

# iptables chains the node's components create: kube-proxy and the kubelet (KUBE-*), the CNI
# portmap plugin (CNI-HOSTPORT-*, CNI-DN-*) and the node itself (QUESTLINE-NODE-*).
OWN_CHAINS = re.compile(r"^(KUBE-|CNI-HOSTPORT-|CNI-DN-|QUESTLINE-NODE-)")
TABLES = ("filter", "nat", "mangle")


class NetworkError(RuntimeError):
    pass


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NetworkError(f"`{' '.join(argv)}` failed: {result.stderr.strip()}")
    return result


def link_exists(name: str) -> bool:
    return Path(f"/sys/class/net/{name}").exists()


def setup(s: NodeSettings) -> None:
    """Idempotent: the node's address, the route of the Service range, the firewall chain."""
    s.config_dir.mkdir(parents=True, exist_ok=True)
    _save_sysctls(s)
    if not link_exists(s.node_bridge):
        # A bridge with no ports: no dummy devices on these kernels (no loadable modules),
        # and a bridge carries an address of its own just as well.
        log(f"creating {s.node_bridge} with {s.node_ip}")
        _run("ip", "link", "add", s.node_bridge, "type", "bridge")
    prefix = ipaddress.ip_network(s.node_cidr).prefixlen
    addresses = _run("ip", "-j", "addr", "show", "dev", s.node_bridge).stdout
    if s.node_ip not in addresses:
        _run("ip", "addr", "add", f"{s.node_ip}/{prefix}", "dev", s.node_bridge)
    _run("ip", "link", "set", s.node_bridge, "up")
    # Service IPs are virtual (kube-proxy DNATs them). Without a route of their own, a packet
    # the host sends to one before kube-proxy's rules exist would follow the default route
    # off the machine; this one ends on the port-less bridge instead.
    _run("ip", "route", "replace", SERVICE_CIDR, "dev", s.node_bridge, "src", s.node_ip)
    firewall(s)


def firewall(s: NodeSettings) -> None:
    """The node's FORWARD chain: pod traffic stays on the machine (no masquerade anywhere).

    1. drop what pods send to anything outside 198.18.0.0/15;
    2. inside the range, pods may only reach other pods on their bridge (a forwarded packet
       to a node address or Service IP never needs to leave through another interface);
    3. nothing from another interface is forwarded to the pods.
    Traffic between the host and its pods (kubelet probes, the API server, Traefik) is not
    forwarded and so not affected."""
    chain = s.fw_chain
    if _run("iptables", "-w", "-n", "-L", chain, check=False).returncode != 0:
        _run("iptables", "-w", "-N", chain)
    _run("iptables", "-w", "-F", chain)
    rules = [
        ["-s", s.pod_cidr, "!", "-d", s.allowed_range, "-j", "DROP"],
        ["-s", s.pod_cidr, "!", "-o", s.pod_bridge, "-j", "DROP"],
        ["-d", s.pod_cidr, "!", "-i", s.pod_bridge, "-j", "DROP"],
    ]
    for rule in rules:
        _run("iptables", "-w", "-A", chain, *rule, "-m", "comment", "--comment", "questline-node: pods stay local")
    ensure_first(s)


def ensure_first(s: NodeSettings) -> None:
    """Our jump must be FORWARD's first rule: kube-proxy puts its own jumps (KUBE-FORWARD
    ACCEPTs Service traffic) at the top when it starts, so `up` calls this again after it."""
    chain = s.fw_chain
    rules = _run("iptables", "-w", "-S", "FORWARD").stdout.splitlines()
    appended = [line for line in rules if line.startswith("-A ")]
    if appended and appended[0] == f"-A FORWARD -j {chain}":
        return
    while _run("iptables", "-w", "-C", "FORWARD", "-j", chain, check=False).returncode == 0:
        _run("iptables", "-w", "-D", "FORWARD", "-j", chain)
    _run("iptables", "-w", "-I", "FORWARD", "1", "-j", chain)


def kube_proxy_synced() -> bool:
    return "-j KUBE-FORWARD" in _run("iptables", "-w", "-S", "FORWARD").stdout


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def _save_sysctls(s: NodeSettings) -> None:
    saved = s.config_dir / "sysctl-before.json"
    if saved.exists():
        return
    values = {}
    for key in SYSCTLS:
        with contextlib.suppress(OSError):
            values[key] = _sysctl_path(key).read_text().strip()
    tables = _existing_tables()
    saved.write_text(json.dumps({"sysctl": values, "iptables_tables": tables}, indent=2) + "\n")


def _restore_sysctls(s: NodeSettings) -> None:
    saved = s.config_dir / "sysctl-before.json"
    if not saved.exists():
        return
    before = json.loads(saved.read_text())
    for key, value in before["sysctl"].items():
        path = _sysctl_path(key)
        try:
            if path.read_text().strip() != value:
                log(f"restoring {key} = {value}")
                path.write_text(value + "\n")
        except OSError as error:
            log(f"could not restore {key}: {error}")
    _drop_new_tables(before.get("iptables_tables", {}))
    saved.unlink()


def _existing_tables() -> dict[str, list[str]]:
    out = {}
    for tool in ("iptables", "ip6tables"):
        save = _run(f"{tool}-save", check=False).stdout
        out[tool] = re.findall(r"^\*(\w+)", save, re.M)
    return out


def _drop_new_tables(before: dict[str, list[str]]) -> None:
    """Empty tables the node's iptables calls created (iptables-nft makes a table on first
    use); only possible with the nft tool, and only tables left without any rule."""
    if shutil.which("nft") is None:
        return
    for tool, family in (("iptables", "ip"), ("ip6tables", "ip6")):
        save = _run(f"{tool}-save", check=False).stdout
        for table in re.findall(r"^\*(\w+)", save, re.M):
            if table in before.get(tool, []):
                continue
            body = save.split(f"*{table}\n", 1)[1].split("COMMIT", 1)[0]
            user_chains = re.search(r"^:(?!INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING)", body, re.M)
            if not re.search(r"^-A ", body, re.M) and not user_chains:
                _run("nft", "delete", "table", family, table, check=False)


def own_chains() -> list[tuple[str, str, str]]:
    """(tool, table, chain) of every chain the node's components made that still exists."""
    found = []
    for tool in ("iptables", "ip6tables"):
        for table in TABLES:
            result = _run(tool, "-w", "-t", table, "-S", check=False)
            for line in result.stdout.splitlines():
                if line.startswith("-N ") and OWN_CHAINS.match(line.split()[1]):
                    found.append((tool, table, line.split()[1]))
    return found


def remove_chains() -> None:
    """Delete every rule that jumps into one of the node's chains, then the chains."""
    for tool in ("iptables", "ip6tables"):
        for table in TABLES:
            result = _run(tool, "-w", "-t", table, "-S", check=False)
            if result.returncode != 0:
                continue
            lines = result.stdout.splitlines()
            ours = [line.split()[1] for line in lines if line.startswith("-N ") and OWN_CHAINS.match(line.split()[1])]
            for line in lines:
                parts = line.split()
                if parts[0] == "-A" and not OWN_CHAINS.match(parts[1]) and "-j" in parts:
                    target = parts[parts.index("-j") + 1]
                    if OWN_CHAINS.match(target):
                        _run(tool, "-w", "-t", table, "-D", *_unquote(parts[1:]), check=False)
            for chain in ours:
                _run(tool, "-w", "-t", table, "-F", chain, check=False)
            for chain in ours:
                _run(tool, "-w", "-t", table, "-X", chain, check=False)


def _unquote(parts: list[str]) -> list[str]:
    """`iptables -S` quotes comments ("a b"); split() broke them: join them back."""
    out: list[str] = []
    buffer: list[str] | None = None
    for part in parts:
        if buffer is not None:
            buffer.append(part)
            if part.endswith('"'):
                out.append(" ".join(buffer)[1:-1])
                buffer = None
        elif part.startswith('"') and not (part.endswith('"') and len(part) > 1):
            buffer = [part]
        elif part.startswith('"') and part.endswith('"'):
            out.append(part[1:-1])
        else:
            out.append(part)
    return out


def netns_of_pods() -> list[Path]:
    return sorted(Path("/var/run/netns").glob("cni-*")) if Path("/var/run/netns").exists() else []


def teardown(s: NodeSettings) -> None:
    """Remove the chains, the bridges (their veths and routes go with them) and put the
    kernel settings back. Idempotent."""
    remove_chains()
    for device in (s.pod_bridge, s.node_bridge):
        if link_exists(device):
            log(f"deleting {device}")
            _run("ip", "link", "del", device, check=False)
    _restore_sysctls(s)


def leftovers(s: NodeSettings) -> list[str]:
    """What of the node's network is still on the machine (empty after `down`)."""
    found = [f"device {d}" for d in (s.node_bridge, s.pod_bridge) if link_exists(d)]
    found += [f"veth {p.name}" for p in Path("/sys/class/net").iterdir() if _is_pod_veth(p, s)]
    found += [f"{tool} -t {table} chain {chain}" for tool, table, chain in own_chains()]
    return found


def _is_pod_veth(path: Path, s: NodeSettings) -> bool:
    master = path / "master"
    return master.exists() and master.resolve().name == s.pod_bridge
