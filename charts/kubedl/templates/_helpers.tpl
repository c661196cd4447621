{{/* Name prefix of every object: the release name, cut to leave room for suffixes. */}}
{{- define "kubedl.fullname" -}}
{{- if contains "kubedl" .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-kubedl" .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "kubedl.labels" -}}
app.kubernetes.io/name: kubedl
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "webhook") */}}
{{- define "kubedl.selector" -}}
app.kubernetes.io/name: kubedl
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "kubedl.image" -}}
{{- printf "%s-%s:%s" .root.Values.image.repository .service (default .root.Chart.AppVersion .root.Values.image.tag) -}}
{{- end -}}

{{- define "kubedl.webhookService" -}}{{ include "kubedl.fullname" . }}-webhook{{- end -}}
{{- define "kubedl.webhookSecret" -}}
{{- if eq .Values.webhook.certificate.mode "secret" -}}
{{- .Values.webhook.certificate.existingSecret -}}
{{- else -}}
{{- include "kubedl.fullname" . }}-webhook-tls
{{- end -}}
{{- end -}}

{{- define "kubedl.gangAddress" -}}
{{- if .Values.gangScheduler.externalAddress -}}
{{- .Values.gangScheduler.externalAddress -}}
{{- else if .Values.gangScheduler.enabled -}}
{{- printf "%s-gang-scheduler.%s.svc:%v" (include "kubedl.fullname" .) .Release.Namespace .Values.gangScheduler.grpcPort -}}
{{- end -}}
{{- end -}}

{{/* Pod-level settings shared by every Deployment. */}}
{{- define "kubedl.podCommon" -}}
securityContext: {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations: {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity: {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* HTTP probes on a component's health port. */}}
{{- define "kubedl.probes" -}}
livenessProbe:
  httpGet: {path: /healthz, port: health}
  periodSeconds: 10
  failureThreshold: 3
readinessProbe:
  httpGet: {path: /readyz, port: health}
  periodSeconds: 5
  failureThreshold: 2
{{- end -}}
