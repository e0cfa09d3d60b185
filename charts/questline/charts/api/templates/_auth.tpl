{{- /* The Secret with the signing keys and the legacy client key: generated or existing. */}}
{{- define "api.authSecret" -}}
{{- .Values.auth.existingSecret | default (include "common.fullname" (dict "ctx" . "component" "api-auth")) -}}
{{- end }}

{{- /* The env of questline_api.settings.AuthSettings (the API pods and the helm test pod). */}}
{{- define "api.authEnv" -}}
{{- if not (has .Values.auth.signingKeyId .Values.auth.keyIds) }}
{{- fail (printf "api.auth.signingKeyId %q is not one of api.auth.keyIds %v: a key must verify before it signs" .Values.auth.signingKeyId .Values.auth.keyIds) }}
{{- end }}
- name: QUESTLINE_API_AUTH
  value: {{ .Values.auth.enabled | quote }}
{{- if .Values.auth.enabled }}
- name: QUESTLINE_API_AUTH_KEYS_DIR
  value: /etc/questline/auth/keys
- name: QUESTLINE_API_AUTH_SIGNING_KEY_ID
  value: {{ .Values.auth.signingKeyId | quote }}
- name: QUESTLINE_API_AUTH_TTL
  value: {{ .Values.auth.ttlSeconds | quote }}
{{- end }}
{{- end }}

{{- define "api.authVolumeMounts" -}}
{{- if .Values.auth.enabled }}
- name: auth-keys
  mountPath: /etc/questline/auth/keys
  readOnly: true
{{- end }}
{{- if eq .Values.auth.legacy "client-key" }}
- name: legacy-client-key
  mountPath: /etc/questline/auth/legacy
  readOnly: true
{{- end }}
{{- end }}

{{- /* Only the listed key ids are mounted, so the directory holds exactly the keys that verify. */}}
{{- define "api.authVolumes" -}}
{{- if .Values.auth.enabled }}
- name: auth-keys
  secret:
    secretName: {{ include "api.authSecret" . }}
    defaultMode: 0440
    items:
      {{- range .Values.auth.keyIds }}
      - {key: {{ . }}, path: {{ . }}}
      {{- end }}
{{- end }}
{{- if eq .Values.auth.legacy "client-key" }}
- name: legacy-client-key
  secret:
    secretName: {{ include "api.authSecret" . }}
    defaultMode: 0440
    items:
      - {key: legacy-client-key, path: client-key}
{{- end }}
{{- end }}
