{{/* Name of the Secret with the database password (key `password`). */}}
{{- define "hiveMetastore.dbSecretName" -}}
{{- .Values.database.existingSecret | default (include "common.fullname" (dict "ctx" . "component" "hive-metastore-db")) -}}
{{- end -}}

{{- define "hiveMetastore.dbHost" -}}
{{- if .Values.database.inCluster -}}
{{- include "common.fullname" (dict "ctx" . "component" "hive-metastore-postgres") -}}
{{- else -}}
{{- required "hiveMetastore.database.host is required when database.inCluster is false" .Values.database.host -}}
{{- end -}}
{{- end -}}

{{/* Environment every container touching the database gets. */}}
{{- define "hiveMetastore.dbEnv" -}}
- name: QUESTLINE_METASTORE_DB_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "hiveMetastore.dbSecretName" . }}
      key: password
- name: HIVE_CONF_DIR
  value: /etc/hive-conf
- name: HADOOP_CONF_DIR
  value: /etc/hive-conf
{{- end -}}
