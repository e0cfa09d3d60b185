#!/bin/bash
# Lays out /opt/hive in the metastore image's build stage (run by the Dockerfile):
#   assemble.sh HIVE_VERSION HADOOP_VERSION JDBC_COORDINATE "EXTRA_COORDINATES"
# /opt/hive/lib: the release's own jars (which win) plus the pinned JDBC driver and extra jars;
# /opt/hive/hadoop-lib: the Hadoop jars of images/hadoop/pom.xml that the release lacks.
set -euo pipefail
hive_version="$1" hadoop_version="$2" jdbc="$3" extra="$4"
mvn=(mvn -B -q -f /src/hadoop/pom.xml "-Dhadoop.version=${hadoop_version}")

# The artifact name of a jar file: everything before -<version>.jar.
artifact() { basename "$1" | sed -E 's/-[0-9][^-]*(-.+)?\.jar$//'; }

"${mvn[@]}" dependency:copy -DoutputDirectory=/tmp/dl \
  "-Dartifact=org.apache.hive:hive-standalone-metastore-server:${hive_version}:tar.gz:bin"
mkdir -p /opt
tar -xzf "/tmp/dl/hive-standalone-metastore-server-${hive_version}-bin.tar.gz" -C /opt
mv "/opt/apache-hive-metastore-${hive_version}-bin" /opt/hive
# The release's scripts need a Hadoop installation (we start the main classes); its conf is replaced.
rm -rf /opt/hive/bin /opt/hive/conf /tmp/dl
mkdir -p /opt/hive/bin

# The release bundles an older PostgreSQL driver; the pinned one replaces it.
rm -f /opt/hive/lib/postgresql-*.jar
for coordinate in ${jdbc} ${extra}; do
  "${mvn[@]}" dependency:copy -DoutputDirectory=/opt/hive/lib "-Dartifact=${coordinate}"
done

"${mvn[@]}" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/tmp/hadoop
declare -A taken=([reload4j]=1 [slf4j-reload4j]=1)  # log4j 1 would compete with the release's log4j 2
for jar in /opt/hive/lib/*.jar; do
  taken[$(artifact "${jar}")]=1
done
mkdir -p /opt/hive/hadoop-lib
for jar in /tmp/hadoop/*.jar; do
  if [[ -z "${taken[$(artifact "${jar}")]:-}" ]]; then
    mv "${jar}" /opt/hive/hadoop-lib/
  fi
done
rm -rf /tmp/hadoop
echo "assemble.sh: $(ls /opt/hive/lib | wc -l) metastore jars, $(ls /opt/hive/hadoop-lib | wc -l) Hadoop jars"
