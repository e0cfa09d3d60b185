#!/usr/bin/env bash
# Debian packages that build and run the images without a daemon (docs/images.md). Idempotent;
# prints what it installs. Versions are those of the machine's suite (bookworm: buildah 1.28,
# podman 4.3, runc 1.1); Debian replaces them in place with security fixes, so they are not pinned.
#   buildah      builds the Dockerfiles (layers, OCI archives, pushes)
#   podman       runs the image tests' containers (same image store as buildah)
#   runc         the OCI runtime: crun refuses this kind of machine's hugetlb cgroup layout
#   debootstrap  makes the Debian base from Debian's packages (no Docker Hub here)
#   skopeo       inspects and copies OCI archives (make node-load)
set -euo pipefail

need=()
for tool in buildah podman runc debootstrap skopeo; do
  command -v "${tool}" >/dev/null || need+=("${tool}")
done
# The keyring debootstrap checks the suite's Release file against.
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)

if [ ${#need[@]} -eq 0 ]; then
  echo "[images-deps] all present"
  exit 0
fi
echo "[images-deps] installing: ${need[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "[images-deps] not root: run 'sudo apt-get install -y ${need[*]}'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}"
