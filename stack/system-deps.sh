#!/usr/bin/env bash
# Debian packages the local stack needs. Idempotent; prints what it installs.
#   postgresql-15  the Hive metastore's database
#   maven          resolves the Kafka/Hadoop/Hive/Spark jars from Maven Central
#   openjdk-17     the default JVM (Trino uses the Temurin 25 JDK beside it)
#   openssl        makes Trino's CA and server certificate at the first `up` (docs/security.md)
set -euo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/postgres ] || need+=(postgresql-15)
command -v mvn >/dev/null || need+=(maven)
[ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] || need+=(openjdk-17-jdk-headless)
command -v setpriv >/dev/null || need+=(util-linux)
command -v openssl >/dev/null || need+=(openssl)

if [ ${#need[@]} -eq 0 ]; then
  echo "[system-deps] all present"
else
  echo "[system-deps] installing: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "[system-deps] not root: run 'sudo apt-get install -y ${need[*]}'" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  if [[ " ${need[*]} " == *" postgresql-15 "* ]]; then
    # The stack runs its own server from the state dir; the package's default
    # cluster (port 5432) would only take memory.
    mkdir -p /etc/postgresql-common/createcluster.d
    echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/questline.conf
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Trino >= 476 needs Java >= 24. The version table names the JDK it expects.
trino_home=$(sed -n 's/^trino_home = "\(.*\)"/\1/p' "$(dirname "$0")/../versions.toml")
if [ ! -x "$trino_home/bin/java" ]; then
  echo "[system-deps] Trino needs a Java 24+ JDK at $trino_home (versions.toml [java].trino_home)," >&2
  echo "              or set QUESTLINE_TRINO_JAVA_HOME to one. Debian bookworm has none; Temurin 25 is expected there." >&2
  exit 1
fi
