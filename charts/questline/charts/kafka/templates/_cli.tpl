{{/*
Environment and shell prelude of the containers that run Kafka's CLI tools from our image
(the plain-mode topic Job, the helm test pod). The tools write nothing but their log
directory and the admin's client properties, which go to the /tmp emptyDir (the root filesystem
is read-only). They log in as the admin when Kafka has users (global.kafkaAuth.enabled).
*/}}
{{- define "kafka.cli.env" -}}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "common.kafkaBootstrapServers" . | quote }}
{{- include "common.kafkaUserEnv" (dict "ctx" . "role" "admin") }}
- name: KAFKA_HEAP_OPTS
  value: "-Xms64m -Xmx128m"
- name: LOG_DIR
  value: /tmp/kafka-logs
{{- end -}}

{{/* `wait_for_brokers SECONDS`: until the brokers answer a metadata request, or fail naming them.
$CLIENT_CONFIG: the client properties every tool gets (--command-config, --producer.config, ...):
the admin's SCRAM login from QUESTLINE_KAFKA_USERNAME/_PASSWORD, or empty without users. */}}
{{- define "kafka.cli.prelude" -}}
export PATH="$PATH:/opt/kafka/bin"
CLIENT_CONFIG=/tmp/client.properties
(
  umask 077
  if [ -n "${QUESTLINE_KAFKA_USERNAME:-}" ]; then
    printf '%s\n' "security.protocol=SASL_PLAINTEXT" "sasl.mechanism=SCRAM-SHA-512" \
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"$QUESTLINE_KAFKA_USERNAME\" password=\"$QUESTLINE_KAFKA_PASSWORD\";"
  fi >"$CLIENT_CONFIG"
)
wait_for_brokers() {
  deadline=$(( $(date +%s) + $1 ))
  until kafka-topics.sh --bootstrap-server "$KAFKA_BOOTSTRAP_SERVERS" --command-config "$CLIENT_CONFIG" --list >/dev/null 2>/tmp/list.err; do
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
