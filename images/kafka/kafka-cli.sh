#!/bin/bash
# questline/kafka CLI tools: installed as kafka-topics.sh, kafka-console-producer.sh and
# kafka-console-consumer.sh (the names of the Apache distribution's scripts, which the chart's
# topic Job and helm test call), plus kafka-configs.sh, kafka-acls.sh (the topic Job's users and ACLs)
# and kafka-get-offsets.sh; runs the tool's
# class from /opt/kafka/libs (kafka-tools, kafka core). JVM: KAFKA_HEAP_OPTS (default -Xmx256m),
# KAFKA_OPTS. Logs: warnings to stderr (tools-log4j2.properties; KAFKA_TOOLS_LOGLEVEL).
set -euo pipefail

home="${KAFKA_HOME:-/opt/kafka}"
tool="$(basename "$0")"
case "${tool}" in
  kafka-topics.sh) class=org.apache.kafka.tools.TopicCommand ;;
  kafka-console-producer.sh) class=org.apache.kafka.tools.ConsoleProducer ;;
  kafka-console-consumer.sh) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
  kafka-get-offsets.sh) class=org.apache.kafka.tools.GetOffsetShell ;;
  kafka-configs.sh) class=kafka.admin.ConfigCommand ;;
  kafka-acls.sh) class=org.apache.kafka.tools.AclCommand ;;
  *)
    echo "kafka-cli: unknown tool ${tool} (expected kafka-topics.sh, kafka-console-{producer,consumer}.sh, kafka-get-offsets.sh, kafka-configs.sh, kafka-acls.sh)" >&2
    exit 2
    ;;
esac
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xmx256m} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
  "-Dlog4j2.configurationFile=${home}/config/tools-log4j2.properties" ${KAFKA_OPTS:-} -cp "${home}/libs/*" "${class}" "$@"
