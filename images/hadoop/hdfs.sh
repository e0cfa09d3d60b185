#!/bin/bash
# questline/hadoop launcher, installed as /opt/hadoop/bin/hdfs (the name Hadoop's own script has,
# for the subset of its commands we use). It starts the Java main classes directly: Hadoop's
# shell scripts are not on Maven Central, and they write logs and pids beside the install.
#   namenode            format the name directory if it is not formatted yet (never again), then run
#   namenode -format .. the NameNode class with those arguments (an explicit format step)
#   format              only the format-once step (an init container)
#   datanode            run a DataNode
#   dfs|dfsadmin|getconf|haadmin|fsck ARGS   the client tools
#   anything else       runs as given
# Heap and JVM options: HDFS_NAMENODE_OPTS, HDFS_DATANODE_OPTS, HADOOP_CLIENT_OPTS (as Hadoop's scripts).
set -euo pipefail

home="${HADOOP_HOME:-/opt/hadoop}"
conf="${HADOOP_CONF_DIR:-${home}/etc/hadoop}"
tmp="${HADOOP_TMP_DIR:-/tmp}"
log() { echo "hdfs: $*" >&2; }

# Java 17+ closes the JDK internals Hadoop reaches by reflection; Hadoop's own scripts open these.
opens=()
for package in java.lang java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
  java.util.concurrent.atomic sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/${package}=ALL-UNNAMED")
done

java_cmd() { # OPTS_VARIABLE MAIN ARGS...
  local opts="${!1:-}"
  shift
  # shellcheck disable=SC2086
  java -Djava.io.tmpdir="${tmp}" -Dhadoop.log.dir="${tmp}" -XX:+UseSerialGC "${opens[@]}" ${opts} \
    -cp "${conf}:${home}/share:${home}/lib/*" "$@"
}

run() { # OPTS_VARIABLE MAIN ARGS... (replaces this shell)
  local opts="${!1:-}"
  shift
  # shellcheck disable=SC2086
  exec java -Djava.io.tmpdir="${tmp}" -Dhadoop.log.dir="${tmp}" -XX:+UseSerialGC "${opens[@]}" ${opts} \
    -cp "${conf}:${home}/share:${home}/lib/*" "$@"
}

format_once() {
  local dirs formatted=false dir
  dirs="$(java_cmd HADOOP_CLIENT_OPTS org.apache.hadoop.hdfs.tools.GetConf -confKey dfs.namenode.name.dir)"
  IFS=',' read -ra name_dirs <<<"${dirs}"
  for dir in "${name_dirs[@]}"; do
    dir="${dir#file://}"
    if [[ -f "${dir}/current/VERSION" ]]; then
      formatted=true
    fi
  done
  if [[ "${formatted}" == true ]]; then
    log "name directory ${dirs} is formatted: not formatting"
    return
  fi
  log "formatting the NameNode (name directory ${dirs})"
  local args=(-format -nonInteractive)
  if [[ -n "${HDFS_CLUSTER_ID:-}" ]]; then
    args+=(-clusterId "${HDFS_CLUSTER_ID}")
  fi
  java_cmd HDFS_NAMENODE_OPTS org.apache.hadoop.hdfs.server.namenode.NameNode "${args[@]}"
}

command="${1:-namenode}"
[[ $# -gt 0 ]] && shift
case "${command}" in
  namenode)
    if [[ $# -eq 0 ]]; then
      format_once
    fi
    run HDFS_NAMENODE_OPTS org.apache.hadoop.hdfs.server.namenode.NameNode "$@"
    ;;
  format) format_once ;;
  datanode) run HDFS_DATANODE_OPTS org.apache.hadoop.hdfs.server.datanode.DataNode "$@" ;;
  dfs) run HADOOP_CLIENT_OPTS org.apache.hadoop.fs.FsShell "$@" ;;
  dfsadmin) run HADOOP_CLIENT_OPTS org.apache.hadoop.hdfs.tools.DFSAdmin "$@" ;;
  getconf) run HADOOP_CLIENT_OPTS org.apache.hadoop.hdfs.tools.GetConf "$@" ;;
  fsck) run HADOOP_CLIENT_OPTS org.apache.hadoop.hdfs.tools.DFSck "$@" ;;
  version) run HADOOP_CLIENT_OPTS org.apache.hadoop.util.VersionInfo "$@" ;;
  *) exec "${command}" "$@" ;;
esac
