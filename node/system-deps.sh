#!/usr/bin/env bash
# Debian packages the one-node cluster needs (root, apt; idempotent): the container
# runtime (containerd 1.6 + runc), the CNI plugins (bridge, host-local, portmap,
# loopback), iptables + conntrack for kube-proxy, buildah for the node's own tiny
# images and skopeo to push OCI archives into the node's registry.
set -euo pipefail
packages=(containerd runc containernetworking-plugins iptables conntrack buildah skopeo)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "[node] system packages present: ${packages[*]}"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "[node] missing Debian packages: ${missing[*]}; run as root: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "[node] installing ${missing[*]}"
# Without systemd the packages' init scripts would start a containerd of their own with
# the default config; the node runs its own with its own socket, so keep services down
# while installing (policy-rc.d 101 = "action forbidden"), unless a policy already exists.
own_policy=""
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    own_policy=1
fi
trap '[ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d' EXIT
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi
