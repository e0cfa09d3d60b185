{{/* Trino's file-based access rules for the release's catalog and database (configmap-trino.yaml). */}}
{{- define "trino.rules" -}}
{{- $catalog := .Values.global.catalog -}}
{{- /* A database name is [a-z][a-z0-9_]* (values.schema.json): as a regular expression, itself. */ -}}
{{- $database := .Values.global.database -}}
{{- $pipeline := first (splitList " " (include "common.trinoUsers" .)) -}}
{{- $rules := dict
  "catalogs" (list
    (dict "user" $pipeline "catalog" (printf "%s|system" $catalog) "allow" "all")
    (dict "catalog" $catalog "allow" "read-only")
    (dict "catalog" "system" "allow" "read-only"))
  "schemas" (list
    (dict "user" $pipeline "catalog" $catalog "schema" $database "owner" true))
  "tables" (list
    (dict "user" $pipeline "catalog" $catalog "schema" $database "privileges" (list "SELECT" "INSERT" "DELETE" "UPDATE" "OWNERSHIP"))
    (dict "catalog" $catalog "schema" $database "privileges" (list "SELECT"))
    (dict "catalog" "system" "privileges" (list "SELECT")))
  "procedures" (list
    (dict "user" $pipeline "catalog" $catalog "schema" "system" "procedure" ".*" "privileges" (list "EXECUTE")))
-}}
{{- toPrettyJson $rules -}}
{{- end -}}
