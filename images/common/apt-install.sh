#!/bin/sh
# Debian packages into one image layer, the same way in every image and stage:
#   RUN --mount=type=bind,source=images/common/apt-install.sh,target=/apt-install sh /apt-install PKG...
# A build stage that downloads (Maven, pip) also mounts --mount=type=secret,id=extra-ca: extra CA
# certificates (a PEM bundle, e.g. a TLS-inspecting proxy's) the builder may pass. They are trusted in
# that stage only; a final stage never mounts the secret, so none reach an image that ships.
# No apt pins: Debian security updates replace versions in place; the suite (BASE_IMAGE) is the pin.
set -eu
# The JRE's package scripts need this directory, which slim bases leave out.
mkdir -p /usr/share/man/man1
extra=
if [ -s /run/secrets/extra-ca ]; then
  mkdir -p /usr/local/share/ca-certificates
  awk '/BEGIN CERTIFICATE/ {n++} n {print > ("/usr/local/share/ca-certificates/questline-extra-" n ".crt")}' \
    /run/secrets/extra-ca
  extra=yes
fi
apt-get update
apt-get install -y --no-install-recommends "$@"
rm -rf /var/lib/apt/lists/*
if [ -n "$extra" ]; then
  update-ca-certificates >/dev/null
fi
