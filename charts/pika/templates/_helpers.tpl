{{/* Chart name, overridable. */}}
{{- define "pika.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: the release name, plus "-pika" unless it already contains "pika". */}}
{{- define "pika.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "pika.operatorName" -}}
{{- printf "%s-operator" (include "pika.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "pika.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/part-of: pika
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels; call with (dict "ctx" $ "component" "server"). */}}
{{- define "pika.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pika.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "pika.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{- define "pika.serverServiceAccountName" -}}
{{- if .Values.server.serviceAccount.create }}
{{- default (printf "%s-server" (include "pika.fullname" .)) .Values.server.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.server.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "pika.operatorServiceAccountName" -}}
{{- if .Values.operator.serviceAccount.create }}
{{- default (include "pika.operatorName" .) .Values.operator.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.operator.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The server's pika.yaml: the chart's settings, then server.config over them. */}}
{{- define "pika.serverConfig" -}}
{{- $server := dict "host" "0.0.0.0" "port" (int .Values.server.port) }}
{{- if .Values.server.publicPort.enabled }}
{{- $_ := set $server "public_port" (int .Values.server.publicPort.port) }}
{{- end }}
{{- $cfg := dict "log_level" .Values.server.logLevel "server" $server "storage" (dict "path" "/data/pika" "sync" true) }}
{{- if .Values.server.unlock.enabled }}
{{- $_ := set $cfg "encryption" (dict "password_file" (printf "/etc/pika/unlock/%s" .Values.server.unlock.key)) }}
{{- end }}
{{- toYaml (mustMergeOverwrite $cfg (deepCopy .Values.server.config)) }}
{{- end }}
