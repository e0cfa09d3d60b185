{{/* Environment of every driver: the variables questline_spark.settings reads. */}}
{{- define "sparkApps.env" -}}
- name: POD_IP
  valueFrom:
    fieldRef: {fieldPath: status.podIP}
- name: POD_NAME
  valueFrom:
    fieldRef: {fieldPath: metadata.name}
- name: KAFKA_BOOTSTRAP_SERVERS
  value: {{ include "common.kafkaBootstrapServers" . | quote }}
{{- /* Spark's Kafka user: it may only read the events topic (docs/security.md). */}}
{{- include "common.kafkaUserEnv" (dict "ctx" . "role" "spark") }}
{{ include "common.namesEnv" . }}
- name: QUESTLINE_HDFS_URI
  value: {{ include "common.hdfsUri" . | quote }}
- name: QUESTLINE_TRINO_URL
  value: {{ include "common.trinoUrl" . | quote }}
# The only user that may write the tables and register partitions (docs/security.md "Trino").
{{ include "common.trinoLoginEnv" (dict "ctx" . "user" "pipeline") }}
- name: QUESTLINE_SPARK_MASTER
  value: k8s://https://kubernetes.default.svc:443
- name: QUESTLINE_SPARK_JARS
  value: {{ join "," .Values.kafkaConnectorJars | quote }}
- name: QUESTLINE_SPARK_DRIVER_MEMORY
  value: {{ .Values.driver.memory | quote }}
- name: QUESTLINE_SPARK_SHUFFLE_PARTITIONS
  value: {{ .Values.shufflePartitions | quote }}
{{- range $name, $value := .Values.extraSettings }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
# spark-defaults.conf and the executor pod template.
- name: SPARK_CONF_DIR
  value: /etc/spark-conf
# Per-pod settings pyspark hands to spark-submit: executors call back to this pod's IP,
# and belong to this pod (deleted with it).
- name: PYSPARK_SUBMIT_ARGS
  value: "--conf spark.driver.host=$(POD_IP) --conf spark.kubernetes.driver.pod.name=$(POD_NAME) pyspark-shell"
{{- end -}}

{{/* Pod spec of a driver running one console script. Arguments: ctx, component, command, restartPolicy,
    env (name -> value), optional secretEnv (name -> {name, key} of a Secret), optional resources
    (default: driver.resources) and container (default: driver; another name for a job that starts
    no Spark executors). */}}
{{- define "sparkApps.driverPodSpec" -}}
{{- $ := .ctx -}}
serviceAccountName: {{ include "common.fullname" (dict "ctx" $ "component" "spark") }}
restartPolicy: {{ .restartPolicy }}
{{- include "common.imagePullSecrets" $ }}
securityContext:
  {{- include "common.podSecurityContext" (dict "user" $.Values.runAsUser) | nindent 2 }}
containers:
  - name: {{ .container | default "driver" }}
    image: {{ include "common.image" $.Values.image }}
    imagePullPolicy: {{ $.Values.image.pullPolicy }}
    # args, not command: the image's entrypoint (under tini) runs it and forwards signals.
    args: [{{ .command | quote }}]
    env:
      {{- include "sparkApps.env" $ | nindent 6 }}
      {{- range $name, $ref := .secretEnv }}
      - name: {{ $name }}
        valueFrom:
          secretKeyRef: {name: {{ $ref.name | quote }}, key: {{ $ref.key | quote }}}
      {{- end }}
      {{- range $name, $value := .env }}
      - name: {{ $name }}
        value: {{ $value | quote }}
      {{- end }}
    ports:
      - {name: driver-rpc, containerPort: 7078, protocol: TCP}
      - {name: blockmanager, containerPort: 7079, protocol: TCP}
    resources:
      {{- toYaml (.resources | default $.Values.driver.resources) | nindent 6 }}
    securityContext:
      {{- include "common.containerSecurityContext" (dict "readOnlyRootFilesystem" true) | nindent 6 }}
    volumeMounts:
      - {name: conf, mountPath: /etc/spark-conf}
      - {name: tmp, mountPath: /tmp}
      - {name: work, mountPath: /opt/spark/work-dir}
      {{- include "common.trinoLoginVolumeMount" $ | nindent 6 }}
volumes:
  {{- include "common.trinoLoginVolume" (dict "ctx" $ "user" "pipeline") | nindent 2 }}
  - name: conf
    configMap:
      name: {{ include "common.fullname" (dict "ctx" $ "component" "spark") }}
  - name: tmp
    emptyDir:
      sizeLimit: 2Gi
  - name: work
    emptyDir:
      sizeLimit: 256Mi
{{- end -}}

{{/* QUESTLINE_RETENTION_DAYS_BY_TABLE from a table -> days map: "purchases=365,visits=30" (sorted). */}}
{{- define "sparkApps.daysByTable" -}}
{{- $items := list -}}
{{- range $table, $days := . -}}
{{- $items = append $items (printf "%s=%v" $table $days) -}}
{{- end -}}
{{- join "," $items -}}
{{- end -}}
