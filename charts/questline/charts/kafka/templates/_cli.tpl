{{/*
Environment and shell prelude of the containers that run Kafka's CLI tools from our image
(the plain-mode topic Job, the helm test pod). The tools write nothing but their log
directory, which goes to the /tmp emptyDir (the root filesystem is read-only).
*/}}
{{- define "kafka.cli.env" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "common.kafkaBootstrapServers" . | quote }}
- name: KAFKA_HEAP_OPTS
  value: "-Xms64m -Xmx128m"
- name: LOG_DIR
  value: /tmp/kafka-logs
{{- end -}}

{{/* `wait_for_brokers SECONDS`: until the brokers answer a metadata request, or fail naming them. */}}
{{- define "kafka.cli.prelude" -}}
export PATH="$PATH:/opt/kafka/bin"
wait_for_brokers() {
  deadline=$(( $(date +%s) + $1 ))
  until kafka-topics.sh --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --list >/dev/null 2>/tmp/list.err; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "Kafka at $KAFKA_BOOTSTRAP_SERVERS did not answer within $1 s:" >&2
      tail -n 5 /tmp/list.err >&2
      exit 1
    fi
    echo "waiting for Kafka at $KAFKA_BOOTSTRAP_SERVERS"
    sleep 5
  done
}
{{- end -}}
