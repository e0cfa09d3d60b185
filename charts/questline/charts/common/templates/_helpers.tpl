{{/*
Named templates shared by every questline subchart. Subcharts call them with
  (dict "ctx" $ "component" "<component>")
where "ctx" is the subchart's root context. Helm loads the templates of all
charts of a release into one namespace, so a library dependency of the umbrella
serves every subchart.
*/}}

{{/* `<release>-<component>`: the name of a component's Service and workload (DESIGN: names). */}}
{{- define "common.fullname" -}}
{{- printf "%s-%s" .ctx.Release.Name .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "common.selectorLabels" -}}
app.kubernetes.io/name: {{ .component }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "common.labels" -}}
{{ include "common.selectorLabels" . }}
app.kubernetes.io/part-of: questline
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | default .ctx.Chart.Version | quote }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* `repository:tag` of an `image: {repository, tag, pullPolicy}` value. */}}
{{- define "common.image" -}}
{{- printf "%s:%s" .repository .tag -}}
{{- end -}}

{{/*
Pod security context of every questline pod (restricted Pod Security Standard).
Arguments: "user" (uid/gid the image's software runs as).
*/}}
{{- define "common.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .user }}
runAsGroup: {{ .user }}
fsGroup: {{ .user }}
fsGroupChangePolicy: OnRootMismatch
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Container security context. Argument "readOnlyRootFilesystem" (bool): true where
the software writes only to mounted volumes.
*/}}
{{- define "common.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: {{ .readOnlyRootFilesystem }}
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "common.imagePullSecrets" -}}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Cross-component endpoints: global.endpoints values may hold templates such as
"{{ .Release.Name }}-kafka-bootstrap:9092", so an external Kafka or HDFS is one override.
*/}}
{{- define "common.kafkaBootstrapServers" -}}
{{- tpl .Values.global.endpoints.kafkaBootstrapServers . -}}
{{- end -}}

{{- define "common.hdfsUri" -}}
{{- tpl .Values.global.endpoints.hdfsUri . -}}
{{- end -}}

{{- define "common.metastoreUri" -}}
{{- tpl .Values.global.endpoints.metastoreUri . -}}
{{- end -}}

{{- define "common.trinoUrl" -}}
{{- tpl .Values.global.endpoints.trinoUrl . -}}
{{- end -}}

{{/*
The names the components share, one chart value each, as the variables every settings module
reads (questline_api, questline_spark, questline_analytics): the events topic, the schema of the
tables and the Trino catalog. Every container that produces, consumes or queries the events
gets these, so overriding global.topic, global.database or global.catalog reaches all of them.
*/}}
{{- define "common.namesEnv" -}}
- name: QUESTLINE_EVENTS_TOPIC
  value: {{ .Values.global.topic | quote }}
- name: QUESTLINE_DATABASE
  value: {{ .Values.global.database | quote }}
- name: QUESTLINE_TRINO_CATALOG
  value: {{ .Values.global.catalog | quote }}
{{- end -}}

{{/*
Ingress rule of a NetworkPolicy admitting every pod of this release (the
components talk to each other; everything else is denied by the umbrella's
default-deny policy).
*/}}
{{- define "common.fromThisRelease" -}}
- podSelector:
    matchLabels:
      app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Pod anti-affinity spreading a component's pods over nodes, when asked. */}}
{{- define "common.antiAffinity" -}}
{{- if eq .mode "required" }}
podAntiAffinity:
  requiredDuringSchedulingIgnoredDuringExecution:
    - topologyKey: kubernetes.io/hostname
      labelSelector:
        matchLabels:
          {{- include "common.selectorLabels" . | nindent 10 }}
{{- else if eq .mode "preferred" }}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "common.selectorLabels" . | nindent 12 }}
{{- end }}
{{- end -}}

{{/* ---- Trino's users and TLS (issue 20; docs/security.md "Trino") ---- */}}

{{/* Trino's users, questline_events.TRINO_USERS (tests/security checks they agree): the pipeline
     writes and registers partitions, the others only read. */}}
{{- define "common.trinoUsers" -}}
pipeline report dashboard smoke analyst
{{- end -}}

{{/* The Secret of Trino's passwords (`password-<user>`, `password.db`, `shared-secret`). */}}
{{- define "common.trinoAuthSecret" -}}
{{- .Values.global.trinoAuth.existingSecret | default (printf "%s-trino-auth" .Release.Name) -}}
{{- end -}}

{{/* The Secret of Trino's certificate (`server.pem`: key and chain; `ca.crt`). */}}
{{- define "common.trinoTlsSecret" -}}
{{- .Values.global.trinoAuth.existingTlsSecret | default (printf "%s-trino-tls" .Release.Name) -}}
{{- end -}}

{{/* What a Trino client reads (questline_settings.trino.trino_login) to log in as `user`:
     arguments ctx, user. The password and the CA are files of the `trino-login` volume. */}}
{{- define "common.trinoLoginEnv" -}}
- name: QUESTLINE_TRINO_USER
  value: {{ .user | quote }}
- name: QUESTLINE_TRINO_PASSWORD_FILE
  value: /etc/questline/trino/password
- name: QUESTLINE_TRINO_CA_FILE
  value: /etc/questline/trino/ca.crt
{{- end -}}

{{- define "common.trinoLoginVolumeMount" -}}
- {name: trino-login, mountPath: /etc/questline/trino, readOnly: true}
{{- end -}}

{{/* Only the user's own password and the CA certificate (arguments ctx, user). */}}
{{- define "common.trinoLoginVolume" -}}
- name: trino-login
  projected:
    defaultMode: 0440
    sources:
      - secret:
          name: {{ include "common.trinoAuthSecret" .ctx }}
          items:
            - {key: {{ printf "password-%s" .user | quote }}, path: password}
      - secret:
          name: {{ include "common.trinoTlsSecret" .ctx }}
          items:
            - {key: ca.crt, path: ca.crt}
{{- end -}}

{{/*
Kafka's users (issue 20, docs/security.md), when global.kafkaAuth.enabled: one SCRAM-SHA-512 user
per role, named `<release>-kafka-<role>` (api: writes the events topic; spark: reads it; admin:
super user of the topic Job and the helm tests). Its password is the key `password` of the Secret of
the same name: Strimzi's User Operator writes it from the KafkaUser (strimzi mode), the kafka chart
generates it at install (plain mode). Pods read it through secretKeyRef, never from a ConfigMap.
*/}}
{{- define "common.kafkaUser" -}}
{{- printf "%s-kafka-%s" .ctx.Release.Name .role | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* "true" when Kafka's users and ACLs are on (global.kafkaAuth.enabled, on unless set false); "" otherwise. */}}
{{- define "common.kafkaAuthEnabled" -}}
{{- if dig "kafkaAuth" "enabled" true (.Values.global | default dict) }}true{{ end -}}
{{- end -}}

{{/* The variables questline_settings.kafka reads, for the user of `role`; nothing when auth is off. */}}
{{- define "common.kafkaUserEnv" -}}
{{- if include "common.kafkaAuthEnabled" .ctx }}
- name: QUESTLINE_KAFKA_USERNAME
  value: {{ include "common.kafkaUser" . | quote }}
- name: QUESTLINE_KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "common.kafkaUser" . }}
      key: password
{{- end }}
{{- end -}}
