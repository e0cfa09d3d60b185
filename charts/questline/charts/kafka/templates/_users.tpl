{{/*
What each Kafka user may do (global.kafkaAuth.enabled), in one place for both modes: Strimzi's
KafkaUser ACLs (strimzi mode) and the kafka-acls.sh calls of the topic Job (plain mode) are
rendered from this list. The API may only write the events topic (its producer is idempotent:
since Kafka 3.0 that needs Write on the topic, no cluster right); Spark may only read it, in
consumer groups named users.sparkGroupPrefix*. The admin is a super user and has no ACLs.
Each entry: role, resource type (topic | group), name, pattern (literal | prefix), operations.
*/}}
{{- define "kafka.users.acls" -}}
{{- $topic := .Values.global.topic -}}
- {role: api, type: topic, name: {{ $topic | quote }}, pattern: literal, operations: [Write, Describe]}
- {role: spark, type: topic, name: {{ $topic | quote }}, pattern: literal, operations: [Read, Describe]}
- {role: spark, type: group, name: {{ .Values.users.sparkGroupPrefix | quote }}, pattern: prefix, operations: [Read]}
{{- end -}}

{{/* The client roles, each one a SCRAM user `<release>-kafka-<role>`. */}}
{{- define "kafka.users.roles" -}}
[api, spark, admin]
{{- end -}}
