{{/* Names shared by the plain-mode templates (mode: plain). Strimzi's names are kept on purpose. */}}

{{/* The StatefulSet of the single node pool of plain mode (nodePools[0]): `<release>-<pool>`, so its pods are named like Strimzi's (questline-dual-0). */}}
{{- define "kafka.plain.statefulSet" -}}
{{- printf "%s-%s" .Release.Name (first .Values.nodePools).name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Headless Service of the nodes: `<release>-kafka-brokers`, Strimzi's name for it. */}}
{{- define "kafka.plain.headless" -}}
{{- printf "%s-kafka-brokers" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kafka.bootstrapService" -}}
{{- printf "%s-kafka-bootstrap" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "kafka.plain.clusterIdSecret" -}}
{{- printf "%s-kafka-cluster-id" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* controller.quorum.voters: <id>@<pod>.<headless>:<controllerPort> for every node. */}}
{{- define "kafka.plain.quorumVoters" -}}
{{- $voters := list }}
{{- range $i := until (int (first .Values.nodePools).replicas) }}
{{- $voters = append $voters (printf "%d@%s-%d.%s.%s.svc:%d" $i (include "kafka.plain.statefulSet" $) $i (include "kafka.plain.headless" $) $.Release.Namespace (int $.Values.plain.controllerPort)) }}
{{- end }}
{{- join "," $voters -}}
{{- end -}}
