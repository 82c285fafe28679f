{{- /* Names and labels shared by every template. Kept to the Go-template subset scripts/chart-render.ts renders. */}}

{{- define "meridian.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- /* The release's name when it already says meridian, else <release>-meridian. */}}
{{- define "meridian.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "meridian.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "meridian.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "meridian.selectorLabels" -}}
app.kubernetes.io/name: {{ include "meridian.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "meridian.labels" -}}
{{ include "meridian.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- /* The namespace whose meridian.dev resources are read, when only one is. */}}
{{- define "meridian.watchNamespace" -}}
{{- default .Release.Namespace .Values.watch.namespace }}
{{- end }}

{{- define "meridian.adminTokenSecret" -}}
{{- default (printf "%s-admin-token" (include "meridian.fullname" .)) .Values.admin.tokenSecret.name }}
{{- end }}

{{- define "meridian.leaseName" -}}
{{- default (include "meridian.fullname" .) .Values.leaseName }}
{{- end }}

{{- /* MERIDIAN_GEOIP_DB: the database files, comma-separated, under the volume's mount. */}}
{{- define "meridian.geoipFiles" -}}
{{- range .Values.geoip.files }}/var/lib/geoip/{{ . }},{{ end }}
{{- end }}
