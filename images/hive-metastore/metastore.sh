#!/bin/bash
# questline/hive-metastore launcher (/opt/hive/bin/metastore).
#   metastore (default)  [init-schema first when METASTORE_INIT_SCHEMA=true] then the Thrift server
#   init-schema          schematool -initOrUpgradeSchema: creates, upgrades or leaves a current schema
#   schematool ARGS      Hive's schema tool (-dbType is METASTORE_DB_TYPE, postgres, unless given)
#   anything else        runs as given
# Configuration: METASTORE_CONF_DIR or HIVE_CONF_DIR (a mounted metastore-site.xml / hive-site.xml),
# else the image's own, set by METASTORE_DB_URL, METASTORE_DB_USER, METASTORE_DB_PASSWORD, ...
# JVM: METASTORE_HEAP (e.g. 512m; HADOOP_HEAPSIZE in MiB also works), METASTORE_OPTS.
set -euo pipefail

home="${METASTORE_HOME:-/opt/hive}"
conf="${METASTORE_CONF_DIR:-${HIVE_CONF_DIR:-${home}/conf}}"
export METASTORE_CONF_DIR="${conf}"
tmp="${METASTORE_TMP_DIR:-/tmp}"
heap="${METASTORE_HEAP:-${HADOOP_HEAPSIZE:+${HADOOP_HEAPSIZE}m}}"
heap="${heap:-512m}"
log() { echo "metastore: $*" >&2; }

# The image's log configuration unless the mounted one brings its own.
log4j="${conf}/metastore-log4j2.properties"
[[ -f "${log4j}" ]] || log4j="${home}/conf/metastore-log4j2.properties"

opens=()
for package in java.lang java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
  java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/${package}=ALL-UNNAMED")
done
# shellcheck disable=SC2206
java=(java "-Xmx${heap}" -XX:+UseSerialGC "-Djava.io.tmpdir=${tmp}" "-Dlog4j.configurationFile=${log4j}"
  "${opens[@]}" ${METASTORE_OPTS:-} -cp "${conf}:${home}/lib/*:${home}/hadoop-lib/*")

schematool() {
  local args=("$@")
  if [[ " ${args[*]} " != *" -dbType "* ]]; then
    args=(-dbType "${METASTORE_DB_TYPE:-postgres}" "${args[@]}")
  fi
  "${java[@]}" org.apache.hadoop.hive.metastore.tools.schematool.MetastoreSchemaTool "${args[@]}"
}

command="${1:-metastore}"
[[ $# -gt 0 ]] && shift
case "${command}" in
  metastore)
    if [[ "${METASTORE_INIT_SCHEMA:-false}" == true ]]; then
      log "schematool -initOrUpgradeSchema (METASTORE_INIT_SCHEMA=true)"
      schematool -initOrUpgradeSchema
    fi
    exec "${java[@]}" org.apache.hadoop.hive.metastore.HiveMetaStore "$@"
    ;;
  init-schema) schematool -initOrUpgradeSchema "$@" ;;
  schematool) schematool "$@" ;;
  *) exec "${command}" "$@" ;;
esac
