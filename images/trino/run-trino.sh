#!/bin/bash
# questline/trino launcher: what Trino's `launcher run` does, without its Python: the JVM options
# from jvm.config, node.properties as system properties (node.id from the host name unless set),
# config.properties and log.properties, then the server in the foreground.
# TRINO_ETC_DIR (default /etc/trino) may be a mounted ConfigMap; node.data-dir must be writable.
# Arguments starting with - are more JVM options; any other command runs as given (e.g. trino, the CLI).
set -euo pipefail

if [[ $# -gt 0 && "$1" != -* ]]; then
  exec "$@"
fi

home="${TRINO_HOME:-/usr/lib/trino}"
etc="${TRINO_ETC_DIR:-/etc/trino}"

lines() { # the non-blank, non-comment lines of a file
  sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' "$1" | grep -v -e '^#' -e '^$' || true
}

for file in jvm.config config.properties node.properties; do
  if [[ ! -f "${etc}/${file}" ]]; then
    echo "run-trino: ${etc}/${file} is missing (TRINO_ETC_DIR=${etc})" >&2
    exit 64
  fi
done

mapfile -t jvm < <(lines "${etc}/jvm.config")
properties=()
while IFS= read -r line; do
  properties+=("-D${line}")
done < <(lines "${etc}/node.properties")
if ! grep -q '^[[:space:]]*node.id' "${etc}/node.properties"; then
  properties+=("-Dnode.id=${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}")
fi
properties+=("-Dconfig=${etc}/config.properties" "-Dcatalog.config-dir=${etc}/catalog")
if [[ -f "${etc}/log.properties" ]]; then
  properties+=("-Dlog.levels-file=${etc}/log.properties")
fi

# Relative plugin directories (plugin/, secrets-plugin/) resolve against the installation.
cd "${home}"
exec java "${jvm[@]}" -cp "${home}/lib/*" "${properties[@]}" "$@" io.trino.server.TrinoServer
