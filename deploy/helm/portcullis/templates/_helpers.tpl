{{- define "portcullis.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "portcullis.fullname" -}}
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

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portcullis.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "portcullis.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "portcullis.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: {{ .Values.mode }}
{{- end }}

{{/* The mode, checked: sidecar or forward-auth. */}}
{{- define "portcullis.mode" -}}
{{- if not (has .Values.mode (list "sidecar" "forward-auth")) }}
{{- fail (printf "mode must be sidecar or forward-auth, not %q" .Values.mode) }}
{{- end }}
{{- .Values.mode }}
{{- end }}

{{/* The Secret whose keys become the portcullis container's environment, or "". */}}
{{- define "portcullis.secretName" -}}
{{- if .Values.existingSecret }}
{{- .Values.existingSecret }}
{{- else if .Values.secrets }}
{{- include "portcullis.fullname" . }}
{{- end }}
{{- end }}

{{/* portcullis.yaml: the keys the chart owns, then .Values.config. */}}
{{- define "portcullis.config" -}}
{{- range $key := list "mode" "listen" "admin" "shutdown_delay" "shutdown_timeout" }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "config.%s is set by the chart (values mode, ports, shutdownDelaySeconds, shutdownTimeoutSeconds); remove it from config" $key) }}
{{- end }}
{{- end -}}
mode: {{ ternary "proxy" "forward_auth" (eq (include "portcullis.mode" .) "sidecar") }}
listen: 0.0.0.0:{{ .Values.ports.http }}
admin:
  # Not loopback: the kubelet's probes and Prometheus connect to the pod IP.
  listen: 0.0.0.0:{{ .Values.ports.admin }}
shutdown_delay: {{ int .Values.shutdownDelaySeconds }}s
shutdown_timeout: {{ int .Values.shutdownTimeoutSeconds }}s
{{ toYaml .Values.config }}
{{- end }}

{{- define "portcullis.terminationGracePeriodSeconds" -}}
{{- add (int .Values.shutdownDelaySeconds) (int .Values.shutdownTimeoutSeconds) (int .Values.terminationGraceMarginSeconds) }}
{{- end }}

{{/* The portcullis container. */}}
{{- define "portcullis.container" -}}
- name: portcullis
  image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: [serve, -c, /etc/portcullis/portcullis.yaml]
  ports:
    - name: http
      containerPort: {{ .Values.ports.http }}
      protocol: TCP
    - name: admin
      containerPort: {{ .Values.ports.admin }}
      protocol: TCP
  {{- with .Values.env }}
  env:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with (include "portcullis.secretName" .) }}
  envFrom:
    - secretRef:
        name: {{ . }}
  {{- end }}
  startupProbe:
    {{- toYaml .Values.probes.startup | nindent 4 }}
  readinessProbe:
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  livenessProbe:
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- toYaml .Values.securityContext | nindent 4 }}
  volumeMounts:
    - name: portcullis-config
      mountPath: /etc/portcullis
      readOnly: true
    - name: portcullis-tmp
      mountPath: /tmp
{{- end }}
